#pragma once
/// @file src.hpp
/// The library's non-template code, for separate compilation (see detail/config.hpp): with
/// `LLMBATCH_SEPARATE_COMPILATION` defined for the whole project, exactly one source file of
/// the project includes this header, and the others include the headers they use as usual.
///
/// @code
/// // llmbatch.cpp, compiled with -DLLMBATCH_SEPARATE_COMPILATION like every other file
/// #include <llmbatch/src.hpp>
/// @endcode

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#error "llmbatch/src.hpp is for separate compilation: define LLMBATCH_SEPARATE_COMPILATION in every translation unit"
#endif

#include "llmbatch/detail/impl/fast_json.ipp"
#include "llmbatch/detail/impl/jitter.ipp"
#include "llmbatch/detail/impl/json_scan.ipp"
#include "llmbatch/detail/impl/json_util.ipp"
#include "llmbatch/detail/impl/time.ipp"
#include "llmbatch/impl/clock.ipp"
#include "llmbatch/impl/json_filter.ipp"
#include "llmbatch/impl/model.ipp"
#include "llmbatch/impl/request.ipp"
#include "llmbatch/impl/retry.ipp"
#include "llmbatch/providers/common/impl/credentials.ipp"
#include "llmbatch/providers/common/impl/ordering.ipp"
#include "llmbatch/providers/common/impl/result_reader.ipp"
#include "llmbatch/providers/gemini/impl/files.ipp"
#include "llmbatch/providers/gemini/impl/results.ipp"
#include "llmbatch/providers/gemini/impl/wire.ipp"
