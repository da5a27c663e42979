// Must not compile: GeminiProvider checks its transport with check_http_transport, and NotATransport has no
// send(const HttpRequest&) (its member is called post).
// first error: not an HttpTransport: it lacks the member 'HttpResponse send(const HttpRequest& request)'
#include "llmbatch/providers/gemini.hpp"

struct NotATransport {
    llmbatch::HttpResponse post(const llmbatch::HttpRequest&) { return {}; }
};

int main() {
    [[maybe_unused]] llmbatch::GeminiProvider<NotATransport> gemini(llmbatch::GeminiConfig{}, NotATransport{});
    return 0;
}
