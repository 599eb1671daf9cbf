# The node acceptance flow end to end on the CPU backend, as CI can run it: a real run of the
# acceptance suite, then `aicbench accept` against specs/acceptance/cpu.json must pass (exit 0)
# and write its JUnit file.
#   cmake -DBINARY=<aicbench> -DSPECS=<source>/specs -DWORK=<dir> [-DACCEPT_BINARY=<aicbench>] -P accept_end_to_end.cmake
# (ACCEPT_BINARY, BINARY by default: e.g. the reports-only binary reading what the full one wrote.)
if(NOT ACCEPT_BINARY)
  set(ACCEPT_BINARY ${BINARY})
endif()
set(ENV{AICBENCH_SPECS} ${SPECS})
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${BINARY} run --backend cpu --suite acceptance --min-time 0.01 --out ${WORK}/results
                RESULT_VARIABLE run_rc OUTPUT_VARIABLE run_out ERROR_VARIABLE run_out)
if(NOT run_rc EQUAL 0)
  message(FATAL_ERROR "aicbench run --suite acceptance exited ${run_rc}:\n${run_out}")
endif()
file(GLOB results ${WORK}/results/*.json)
execute_process(COMMAND ${ACCEPT_BINARY} accept --spec ${SPECS}/acceptance/cpu.json --junit ${WORK}/accept.xml ${results}
                RESULT_VARIABLE accept_rc OUTPUT_VARIABLE accept_out ERROR_VARIABLE accept_out)
if(NOT accept_rc EQUAL 0 OR NOT EXISTS ${WORK}/accept.xml)
  message(FATAL_ERROR "aicbench accept exited ${accept_rc}:\n${accept_out}")
endif()
message(STATUS "${accept_out}")
file(REMOVE_RECURSE ${WORK})
