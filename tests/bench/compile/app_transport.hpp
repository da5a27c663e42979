#pragma once
// The application's own transport, for the compile-time probe (gemini_service.cpp) and the
// library source it is linked with in separate compilation (library.cpp).
#include <llmbatch/http.hpp>

struct AppTransport {
    llmbatch::HttpResponse send(const llmbatch::HttpRequest&) { return {}; }
};
