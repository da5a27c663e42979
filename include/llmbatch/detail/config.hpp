#pragma once
/// @file detail/config.hpp
/// Header-only by default; separate compilation on request.
///
/// By default every function of the library is defined in its headers (`inline`), and nothing
/// is built or linked but the headers. A project that includes the library in many translation
/// units can compile the library's non-template code once instead, as Boost.Beast and Asio offer:
///
/// 1. define `LLMBATCH_SEPARATE_COMPILATION` for the whole project (every translation unit);
/// 2. compile one source file of its own that includes `<llmbatch/src.hpp>`, and link it.
///
/// The headers then declare those functions and leave out what only their definitions need
/// (simdjson's header among them), so including them costs less. Templates stay in the headers.
/// `LLMBATCH_HAVE_SIMDJSON` must have the same value in every translation unit, that source file
/// included.

#if defined(LLMBATCH_SEPARATE_COMPILATION)
/// How a function compiled once in `<llmbatch/src.hpp>` is declared and defined.
#define LLMBATCH_DECL
#else
#define LLMBATCH_DECL inline
#endif
