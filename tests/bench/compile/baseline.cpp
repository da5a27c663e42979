// Compile-time baseline: a unit that uses nlohmann/json and {fmt} alone.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
    if (argc < 2) return 1;
    const auto value = nlohmann::json::parse(argv[1]);
    fmt::print("{} {}\n", value.dump(), value.size());
    return 0;
}
