# kjq_add_test(NAME SOURCES a.cpp b.cpp LIBS kjq_x ... [TIMEOUT seconds] [SERIAL]): one GoogleTest
# executable, tests discovered into CTest (each with TIMEOUT, default 120 s; SERIAL: each runs
# alone, for load tests that need both cores to finish on time). KJQ_SOURCE_DIR and
# KJQ_FIXTURES_DIR let tests find their data.
#
# KJQ_LIBRARY_TESTS=OFF leaves out the in-process tests of kjq's libraries (those outside tests/e2e
# that do not need kube-emulator): scripts/test.sh builds and runs them in the sanitizer build only,
# so the debug build compiles just the product, the emulator and the end-to-end tests.
function(kjq_add_test name)
  cmake_parse_arguments(ARG "SERIAL" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT KJQ_LIBRARY_TESTS AND NOT CMAKE_CURRENT_SOURCE_DIR MATCHES "/tests/e2e$"
     AND NOT "kube_emulator_lib" IN_LIST ARG_LIBS)
    return()
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    KJQ_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    KJQ_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures"
    KJQ_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(serial FALSE)
  if(ARG_SERIAL)
    set(serial TRUE)
  endif()
  if(KJQ_SANITIZE)
    # Under the sanitizers an executable runs all its tests in one process: starting several
    # hundred instrumented processes, one per test, cost more than the tests themselves.
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES TIMEOUT 900 RUN_SERIAL ${serial})
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${ARG_TIMEOUT} RUN_SERIAL ${serial})
  endif()
  set_property(GLOBAL APPEND PROPERTY KJQ_TEST_TARGETS ${name})
endfunction()
