# SPDX-License-Identifier: MIT
# kg_add_unit_test(NAME name SOURCES a.c ... [LIBS lib ...])
#   one cmocka binary per module, labelled "unit".
function(kg_add_unit_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE kvmgrid_options PkgConfig::CMOCKA ${T_LIBS})
  target_compile_definitions(${T_NAME} PRIVATE
    KG_SOURCE_DIR="${PROJECT_SOURCE_DIR}" KG_FIXTURES="${PROJECT_SOURCE_DIR}/tests/fixtures")
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES LABELS unit TIMEOUT 120
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp")
endfunction()

# kg_add_shell_test(NAME name COMMAND sh script.sh [args ...] LABELS label...
#                   [TIMEOUT s] [ENVIRONMENT VAR=value ...])
#   a test script over tests/integration/lib.sh (its own mosquitto on a free
#   loopback port, every process reaped by PID), with exactly the labels given.
#   Test scripts and their libraries are POSIX sh: every one runs as
#   `sh script.sh`, whatever its shebang says (sh is dash on Debian), and
#   ENVIRONMENT adds to the variables every shell test gets.
function(kg_add_shell_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS;ENVIRONMENT" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(NOT T_LABELS)
    message(FATAL_ERROR "kg_add_shell_test(${T_NAME}): LABELS is required")
  endif()
  if(T_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kg_add_shell_test(${T_NAME}): unknown arguments ${T_UNPARSED_ARGUMENTS}")
  endif()
  list(LENGTH T_COMMAND n)
  if(n LESS 2)
    message(FATAL_ERROR "kg_add_shell_test(${T_NAME}): COMMAND must be sh script.sh [args ...]")
  endif()
  list(GET T_COMMAND 0 shell)
  list(GET T_COMMAND 1 script)
  if(NOT shell STREQUAL "sh" OR NOT script MATCHES "\\.sh$")
    message(FATAL_ERROR "kg_add_shell_test(${T_NAME}): COMMAND must be sh script.sh [args ...] "
      "(test scripts are POSIX sh), not ${T_COMMAND}")
  endif()
  if(NOT EXISTS ${script})
    message(FATAL_ERROR "kg_add_shell_test(${T_NAME}): ${script} does not exist")
  endif()
  set(env
    "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp"
    "KG_BUILD_DIR=${PROJECT_BINARY_DIR}" "KG_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    "MOSQUITTO=${MOSQUITTO_BIN}" "MOSQUITTO_PUB=${MOSQUITTO_PUB}" "MOSQUITTO_SUB=${MOSQUITTO_SUB}"
    ${T_ENVIRONMENT})
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "${env}")
endfunction()

# kg_add_integration_test(NAME name COMMAND sh script.sh ... [TIMEOUT s] [LABELS ...]
#                         [ENVIRONMENT ...])
#   an integration test (label integration, plus LABELS): minutes at most, the
#   quick run next to the unit tests. End-to-end and fault tests are shell tests
#   with their own label only (e2e, fault), so -L integration leaves them out.
function(kg_add_integration_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS;ENVIRONMENT" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(T_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kg_add_integration_test(${T_NAME}): unknown arguments ${T_UNPARSED_ARGUMENTS}")
  endif()
  kg_add_shell_test(NAME ${T_NAME} COMMAND ${T_COMMAND} LABELS integration ${T_LABELS}
    TIMEOUT ${T_TIMEOUT} ENVIRONMENT ${T_ENVIRONMENT})
endfunction()
