# SPDX-License-Identifier: MIT
# One bounded libFuzzer run, as ctest's fuzz_<name>_run (tests/fuzz/CMakeLists.txt):
#   cmake -DFUZZER=bin -DNAME=name -DCORPUS=dir -DWORK=dir [-DDICT=file] [-DMAX_LEN=n]
#         -P run_fuzzer.cmake
# The seed corpus is copied into WORK/corpus, which libFuzzer grows; the source
# corpus is only read. The run lasts $KG_FUZZ_SECONDS (default 30). A failing
# input (crash, leak, UB, timeout, out of memory) fails the test with where the
# reproducer is and what to do with it; libFuzzer's log is WORK/fuzz.log.
foreach(v FUZZER NAME CORPUS WORK)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "run_fuzzer.cmake: -D${v}=... is required")
  endif()
endforeach()

set(seconds 30)
if(DEFINED ENV{KG_FUZZ_SECONDS} AND NOT "$ENV{KG_FUZZ_SECONDS}" STREQUAL "")
  set(seconds "$ENV{KG_FUZZ_SECONDS}")
  if(NOT seconds MATCHES "^[0-9]+$" OR seconds EQUAL 0)
    message(FATAL_ERROR "KG_FUZZ_SECONDS: a whole number of seconds above 0, not '${seconds}'")
  endif()
endif()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
file(GLOB seeds LIST_DIRECTORIES false "${CORPUS}/*")
if(NOT seeds)
  message(FATAL_ERROR "fuzz_${NAME}: no seed corpus in ${CORPUS}")
endif()
file(COPY ${seeds} DESTINATION "${WORK}/corpus")

set(args -max_total_time=${seconds} -timeout=10 -print_final_stats=1
         "-artifact_prefix=${WORK}/artifacts/")
if(DICT)
  list(APPEND args "-dict=${DICT}")
endif()
if(MAX_LEN)
  list(APPEND args -max_len=${MAX_LEN})
endif()
list(LENGTH seeds n_seeds)
message(STATUS "fuzz_${NAME}: ${seconds} s from ${n_seeds} seeds (${CORPUS})")
# A fuzzer stops itself after max_total_time; the margin covers loading the corpus
# and a last slow input (-timeout) before the run counts as hung.
math(EXPR limit "${seconds} + 120")
execute_process(COMMAND "${FUZZER}" ${args} "${WORK}/corpus"
  RESULT_VARIABLE rc OUTPUT_FILE "${WORK}/fuzz.log" ERROR_FILE "${WORK}/fuzz.log"
  TIMEOUT ${limit})

# The log is read as text, not as a CMake list: its '[' and ';' would split it wrongly.
file(READ "${WORK}/fuzz.log" log)
set(stat_re "Done [0-9]+ runs in [0-9]+ second\\(s\\)")
string(APPEND stat_re "|stat::number_of_executed_units: *[0-9]+|stat::new_units_added: *[0-9]+")
string(REGEX MATCHALL "${stat_re}" stats "${log}")
list(JOIN stats "\n  " stats)
if(rc EQUAL 0)
  message(STATUS "fuzz_${NAME}: no failure\n  ${stats}")
  return()
endif()

string(LENGTH "${log}" n)
set(from 0)
if(n GREATER 6000)
  math(EXPR from "${n} - 6000")
endif()
string(SUBSTRING "${log}" ${from} -1 tail)
file(GLOB found LIST_DIRECTORIES false "${WORK}/artifacts/*")
# NOTICE prints as it is; FATAL_ERROR would re-wrap the lines.
message(NOTICE "...\n${tail}\n(libFuzzer's whole log: ${WORK}/fuzz.log)\n")
if(found)
  list(JOIN found "\n  " found)
  message(NOTICE "fuzz_${NAME} failed (${rc}). The failing input, a reproducer:\n  ${found}\n"
                 "Reproduce it with:\n  ${FUZZER} <that file>\n"
                 "Fix the bug in the module under test, then add the file to\n"
                 "tests/fuzz/corpus/${NAME}/ as a regression input (named for what it\n"
                 "exercises), so that every build replays it (fuzz_${NAME}_corpus).\n")
else()
  message(NOTICE "fuzz_${NAME} failed (${rc}) and left no reproducer in ${WORK}/artifacts.\n")
endif()
message(FATAL_ERROR "fuzz_${NAME}: failed, see above")
