// The application's one library source file in separate compilation: the library's non-template
// code, and GeminiProvider instantiated for the application's transport (compiled once; the
// compile-time probe, gemini_service.cpp, then includes declarations only).
#include <llmbatch/src.hpp>
#include <llmbatch/providers/gemini/impl/provider.hpp>

#include "app_transport.hpp"

template class llmbatch::GeminiProvider<AppTransport>;
