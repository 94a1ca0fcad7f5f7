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

# kg_add_shell_test(NAME name COMMAND cmd ... LABELS label... [TIMEOUT s])
#   a test script over tests/integration/lib.sh (its own mosquitto on a free
#   loopback port, every process reaped by PID), with exactly the labels given.
function(kg_add_shell_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(NOT T_LABELS)
    message(FATAL_ERROR "kg_add_shell_test(${T_NAME}): LABELS is required")
  endif()
  list(GET T_COMMAND -1 script)
  if(script MATCHES "\\.sh$" AND NOT EXISTS ${script})
    message(FATAL_ERROR "kg_add_shell_test(${T_NAME}): ${script} does not exist")
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp;KG_BUILD_DIR=${PROJECT_BINARY_DIR};KG_SOURCE_DIR=${PROJECT_SOURCE_DIR};MOSQUITTO=${MOSQUITTO_BIN};MOSQUITTO_PUB=${MOSQUITTO_PUB};MOSQUITTO_SUB=${MOSQUITTO_SUB}")
endfunction()

# kg_add_integration_test(NAME name COMMAND cmd ... [TIMEOUT s] [LABELS ...])
#   an integration test (label integration, plus LABELS): minutes at most, the
#   quick run next to the unit tests. End-to-end and fault tests are shell tests
#   with their own label only (e2e, fault), so -L integration leaves them out.
function(kg_add_integration_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  kg_add_shell_test(NAME ${T_NAME} COMMAND ${T_COMMAND} LABELS integration ${T_LABELS}
    TIMEOUT ${T_TIMEOUT})
endfunction()
