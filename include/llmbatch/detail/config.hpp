#pragma once
/// @file detail/config.hpp
/// Header-only by default; separate compilation on request.
///
/// By default every function of the library is defined in its headers (`inline`, or as a
/// template), and nothing is built or linked but the headers. A project that includes the
/// library in many translation units can compile it once instead, as Boost.Beast and Asio offer:
///
/// 1. define `LLMBATCH_SEPARATE_COMPILATION` for the whole project (every translation unit);
/// 2. compile one source file of its own that includes `<llmbatch/src.hpp>`, and link it;
/// 3. in that same file, instantiate `GeminiProvider` for each transport and clock the project
///    uses, after including its member definitions:
///
/// @code
/// // llmbatch.cpp: the project's one library source file
/// #include <llmbatch/src.hpp>
/// #include <llmbatch/providers/gemini/impl/provider.hpp>
/// #include "my_transport.hpp"
/// template class llmbatch::GeminiProvider<MyTransport>;                  // SystemClock
/// template class llmbatch::GeminiProvider<MyTransport, MyClock>;         // another clock
/// @endcode
///
/// The headers then declare those functions and leave out what only their definitions need
/// (simdjson's, <random>'s, <thread>'s and fmt's chrono headers among them), so a unit that
/// includes them compiles in a fraction of the time. A `GeminiProvider` not instantiated there
/// is a link error naming the missing member. The other providers, `LLMService` and the rest
/// of the templates stay defined in the headers. `LLMBATCH_HAVE_SIMDJSON` must have the same
/// value in every translation unit, that source file included.

#if defined(LLMBATCH_SEPARATE_COMPILATION)
/// How a function compiled once in `<llmbatch/src.hpp>` is declared and defined.
#define LLMBATCH_DECL
#else
#define LLMBATCH_DECL inline
#endif
