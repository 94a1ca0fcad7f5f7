# SPDX-License-Identifier: MIT
# One INTERFACE target carries every compile option; every kvmgrid target links it
# (mosquitto's common-options). Nothing goes into CMAKE_C_FLAGS.
add_library(kvmgrid_options INTERFACE)
target_compile_options(kvmgrid_options INTERFACE
  -Wall -Wextra -Wpedantic
  -Wshadow -Wpointer-arith
  -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations
  -Wwrite-strings -Wformat=2
  -Wundef -Wvla -Wdouble-promotion
  -Wimplicit-fallthrough -Wold-style-definition -Wredundant-decls
  -Wnested-externs
  -fno-common)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  # GCC-only: clang does not know them (and -Werror would fail on the unknown flag).
  target_compile_options(kvmgrid_options INTERFACE
    -Wlogical-op -Wduplicated-cond -Wformat-overflow=2 -Wformat-truncation=1)
endif()
target_compile_definitions(kvmgrid_options INTERFACE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
if(KVMGRID_WERROR)
  target_compile_options(kvmgrid_options INTERFACE -Werror)
endif()
if(KVMGRID_SANITIZE)
  target_compile_options(kvmgrid_options INTERFACE
    -fsanitize=${KVMGRID_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(kvmgrid_options INTERFACE -fsanitize=${KVMGRID_SANITIZE})
endif()
