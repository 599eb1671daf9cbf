# FindRE2: Google's RE2, the linear-time regular expression engine behind `aicbench run --filter`.
#
# Debian's libre2-dev ships a pkg-config file (re2.pc) but no CMake package, and newer RE2
# releases ship a CMake package (re2::re2); the GPU kit (scripts/make-gpu-kit.sh) carries only the
# header and the library. So: a CMake package if there is one, else the header and library found
# directly (in CMAKE_PREFIX_PATH and the system paths), with pkg-config's directories as hints.
# Defines RE2_FOUND and the imported target RE2::RE2.

find_package(re2 CONFIG QUIET)
if(TARGET re2::re2)
  set(RE2_FOUND TRUE)
  if(NOT TARGET RE2::RE2)
    add_library(RE2::RE2 INTERFACE IMPORTED)
    set_target_properties(RE2::RE2 PROPERTIES INTERFACE_LINK_LIBRARIES re2::re2)
  endif()
  return()
endif()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_RE2 QUIET re2)
endif()
find_path(RE2_INCLUDE_DIR re2/re2.h HINTS ${PC_RE2_INCLUDEDIR} ${PC_RE2_INCLUDE_DIRS})
find_library(RE2_LIBRARY NAMES re2 HINTS ${PC_RE2_LIBDIR} ${PC_RE2_LIBRARY_DIRS})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(RE2 REQUIRED_VARS RE2_LIBRARY RE2_INCLUDE_DIR)

if(RE2_FOUND AND NOT TARGET RE2::RE2)
  find_package(Threads REQUIRED)  # RE2's headers and library use std::thread primitives
  add_library(RE2::RE2 UNKNOWN IMPORTED)
  set_target_properties(RE2::RE2 PROPERTIES
    IMPORTED_LOCATION "${RE2_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${RE2_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(RE2_INCLUDE_DIR RE2_LIBRARY)
