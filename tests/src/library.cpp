// The library's non-template code compiled once, as a project using separate compilation does
// (LLMBATCH_SEPARATE_COMPILATION defined for this file and every file linked with it), with
// GeminiProvider instantiated for the transports and clocks the programs linked with it use.
#include <llmbatch/src.hpp>
#include <llmbatch/providers/gemini/impl/provider.hpp>
#include <llmbatch/testing/gemini_emulator.hpp>
#include <llmbatch/testing/manual_clock.hpp>
#if LLMBATCH_HAVE_CURL
#include <llmbatch/transport/curl.hpp>
#endif

template class llmbatch::GeminiProvider<llmbatch::testing::GeminiEmulator, llmbatch::testing::ManualClock>;
#if LLMBATCH_HAVE_CURL
template class llmbatch::GeminiProvider<llmbatch::CurlTransport, llmbatch::SystemClock>;
#endif
