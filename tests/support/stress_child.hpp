#pragma once
// tracker_stress children (tests/tools/tracker_stress.cpp) for the job stores' crash and
// concurrency tests: start one, and collect the job names it reported as committed.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#ifndef LLMBATCH_TRACKER_STRESS
#error "LLMBATCH_TRACKER_STRESS must name the tracker_stress program (tests/tools/meson.build defines it)"
#endif

extern char** environ;

namespace llmbatch_test {

/// A running tracker_stress child whose standard output we read.
struct Child {
    pid_t pid = -1;
    int out = -1;
};

/// Starts tracker_stress on `store` (a tracking file with `state`, or `sqlite:<file>` with an empty
/// `state`) adding `count` jobs from `start`.
inline Child spawn_stress(const std::string& store, const std::string& state, long start, long count) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<std::string> args = {LLMBATCH_TRACKER_STRESS, store, state, std::to_string(start), std::to_string(count)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    Child child;
    const int rc = ::posix_spawn(&child.pid, LLMBATCH_TRACKER_STRESS, &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) ::close(fds[0]);
    REQUIRE_MESSAGE(rc == 0, "cannot start " LLMBATCH_TRACKER_STRESS);
    child.out = fds[0];
    return child;
}

/// Waits for the child and returns the job names it reported as committed (complete lines only).
inline std::vector<std::string> finish(Child& child, int* wait_status = nullptr) {
    int status = 0;
    REQUIRE(::waitpid(child.pid, &status, 0) == child.pid);
    if (wait_status) *wait_status = status;
    std::string text;
    char buffer[4096];
    for (;;) {
        const auto n = ::read(child.out, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(child.out);
    std::vector<std::string> names;
    std::size_t start = 0;
    for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
        names.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return names;
}


}  // namespace llmbatch_test
