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

# kg_add_integration_test(NAME name COMMAND cmd ... [TIMEOUT s] [LABELS ...])
#   integration tests start their own mosquitto on a free loopback port
#   (tests/integration/lib.sh) and reap it by PID.
function(kg_add_integration_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "integration;${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp;KG_BUILD_DIR=${PROJECT_BINARY_DIR};KG_SOURCE_DIR=${PROJECT_SOURCE_DIR};MOSQUITTO=${MOSQUITTO_BIN};MOSQUITTO_PUB=${MOSQUITTO_PUB};MOSQUITTO_SUB=${MOSQUITTO_SUB}")
endfunction()
