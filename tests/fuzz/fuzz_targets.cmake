# Sources of the fuzz targets (docs/fuzzing.md), shared by the libFuzzer build (SATIQ_FUZZ, top-level
# CMakeLists.txt) and the replay build of the test suite (tests/CMakeLists.txt).
#   satiq_fuzz_sources(TARGET raster|parse): adds the target's sources and libraries to TARGET.
set(SATIQ_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
function(satiq_fuzz_sources target kind)
  if(kind STREQUAL "raster")
    target_sources(${target} PRIVATE ${SATIQ_FUZZ_DIR}/fuzz_raster.cpp)
    target_link_libraries(${target} PRIVATE satiq_pipeline satiq_warnings)
  elseif(kind STREQUAL "parse")
    # fuzz_parse also drives the CLI's own parsers: `satiq predict` and `satiq require` as
    # registered by the binary (their runners only print), and assess's --roi/--band parsers
    # (cli_assess_parsers.cpp compiles cmd_assess.cpp to reach them).
    set(cli ${PROJECT_SOURCE_DIR}/pipeline/cli)
    target_sources(${target} PRIVATE ${SATIQ_FUZZ_DIR}/fuzz_parse.cpp ${SATIQ_FUZZ_DIR}/cli_assess_parsers.cpp
      ${cli}/cmd_predict.cpp ${cli}/cmd_require.cpp ${cli}/sensor_options.cpp)
    target_include_directories(${target} PRIVATE ${cli} ${SATIQ_FUZZ_DIR})
    target_link_libraries(${target} PRIVATE satiq_pipeline CLI11::CLI11 satiq_warnings)
  else()
    message(FATAL_ERROR "satiq_fuzz_sources: unknown fuzz target '${kind}'")
  endif()
endfunction()
