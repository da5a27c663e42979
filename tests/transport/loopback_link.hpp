// The loopback link of the contract harnesses: the emulator served on a free loopback port by
// EmulatorServer, reached through the real transport `T`.
#pragma once

#include <string>

#include "llmbatch/testing/emulator_server.hpp"

template <class T>
struct OverLoopback {
    template <class Emulator>
    struct Link {
        using Transport = T;
        explicit Link(Emulator& emulator) : server(emulator) { server.start(); }
        [[nodiscard]] static Transport transport() { return T{}; }
        [[nodiscard]] std::string base_url() const { return server.base_url(); }
        llmbatch::testing::EmulatorServer<Emulator> server;
    };
};
