// Must not compile: GeminiProvider requires an HttpTransport, and NotATransport has no
// send(const HttpRequest&) (its member is called post).
#include "llmbatch/providers/gemini.hpp"

struct NotATransport {
    llmbatch::HttpResponse post(const llmbatch::HttpRequest&) { return {}; }
};

int main() {
    [[maybe_unused]] llmbatch::GeminiProvider<NotATransport> gemini(llmbatch::GeminiConfig{}, NotATransport{});
    return 0;
}
