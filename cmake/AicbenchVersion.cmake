# Writes the git commit and dirty-tree flag into a generated source at every build (not only at
# configure time), so a result file never claims a commit that the binary was not built from.
set(AICBENCH_BUILD_INFO_CPP "${CMAKE_BINARY_DIR}/generated/build_info.cpp")
add_custom_target(aicbench_build_info_gen
  COMMAND ${CMAKE_COMMAND}
          -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
          -DOUTPUT=${AICBENCH_BUILD_INFO_CPP}
          -DVERSION=${PROJECT_VERSION}
          -P ${CMAKE_SOURCE_DIR}/cmake/WriteBuildInfo.cmake
  BYPRODUCTS ${AICBENCH_BUILD_INFO_CPP}
  COMMENT "Recording the git commit in build_info.cpp"
  VERBATIM)
