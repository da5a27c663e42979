// testing/faulty_files.hpp: the record of file operations, and the faults it injects into them.
#include "llmbatch/testing/faulty_files.hpp"

#include <doctest/doctest.h>

#include "../support/temp_dir.hpp"

#include <exception>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "llmbatch/detail/file_io.hpp"

namespace tests_testing_faulty_files {

namespace fs = std::filesystem;
using llmbatch::FileError;
using llmbatch::detail::atomic_write_file;
using llmbatch::detail::read_file_if_exists;
using llmbatch::testing::FaultyFiles;
using llmbatch::testing::FileFault;
using llmbatch::testing::FileOp;
using llmbatch::testing::SimulatedKill;

namespace {

/// The names in `dir` other than `keep`.
std::vector<std::string> others_in(const fs::path& dir, const std::string& keep) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename() != keep) out.push_back(e.path().filename().string());
    return out;
}

}  // namespace

TEST_SUITE("testing") {

TEST_CASE("FaultyFiles records each operation of an atomic write, in order, with its path") {
    llmbatch_test::TempDir tmp("llmbatch-faulty", true);
    const auto target = tmp.path / "f.json";
    FaultyFiles files;
    atomic_write_file(target, "new");
    const auto& ops = files.operations();
    std::vector<FileOp> kinds;
    for (const auto& r : ops) kinds.push_back(r.op);
    CHECK(kinds == std::vector<FileOp>{FileOp::stat, FileOp::open, FileOp::write, FileOp::fsync, FileOp::close,
                                       FileOp::rename, FileOp::open, FileOp::fsync, FileOp::close});
    REQUIRE(ops.size() == 9);
    CHECK(ops[0].path == target.string());
    CHECK(ops[1].path == ops[3].path);                 // the temporary is written and synced
    CHECK(ops[5].path == ops[1].path);                 // then renamed
    CHECK(ops[5].to == target.string());               // over the target
    CHECK(ops[7].path == tmp.path.string());           // and the directory synced
    CHECK(files.count(FileFault::short_write) == 1);
    CHECK(files.count(FileFault::enospc) == 5);        // creating open, write, both fsyncs, rename
    CHECK_FALSE(files.fired());
}

TEST_CASE("FaultyFiles: ENOSPC and EIO at every point of an atomic write leave the old content and no leftovers") {
    for (const auto fault : {FileFault::enospc, FileFault::eio}) {
        std::size_t tried = 0;
        for (std::size_t n = 1;; ++n) {
            llmbatch_test::TempDir tmp("llmbatch-faulty", true);
            const auto target = tmp.path / "f.json";
            atomic_write_file(target, "old");
            FaultyFiles files;
            files.fail_at(n, fault);
            bool threw = false;
            try {
                atomic_write_file(target, "new");
            } catch (const FileError& e) {
                threw = true;
                CHECK(std::string(e.what()).find(fault == FileFault::enospc ? "No space left" : "Input/output") !=
                      std::string::npos);
            }
            if (!files.fired()) break;
            ++tried;
            CAPTURE(n);
            CHECK(threw);
            CHECK(others_in(tmp.path, "f.json").empty());
            // Only the directory sync comes after the rename: the new content is then in place.
            const bool after_rename = files.operations().back().path == tmp.path.string();
            CHECK(*read_file_if_exists(target) == (after_rename ? "new" : "old"));
        }
        // ENOSPC: creating open, write, both fsyncs, rename; EIO: also fchmod (the mode is kept)
        // and the directory's open and both closes.
        CHECK(tried == (fault == FileFault::enospc ? 5 : 9));
    }
}

TEST_CASE("FaultyFiles: a short write puts half the bytes down, then the disk is full") {
    llmbatch_test::TempDir tmp("llmbatch-faulty", true);
    const auto target = tmp.path / "f.json";
    FaultyFiles files;
    files.fail_at(1, FileFault::short_write);
    CHECK_THROWS_WITH_AS(atomic_write_file(target, "0123456789"),
                         doctest::Contains("No space left on device"), FileError);
    CHECK(files.fired());
    CHECK(files.operations().back().op == FileOp::unlink);  // the temporary was cleaned up
    CHECK_FALSE(fs::exists(target));
    CHECK(others_in(tmp.path, "").empty());
}

TEST_CASE("FaultyFiles: a kill throws outside std::exception and leaves the files as a dead process would") {
    static_assert(!std::is_base_of_v<std::exception, SimulatedKill>);
    llmbatch_test::TempDir tmp("llmbatch-faulty", true);
    const auto target = tmp.path / "f.json";
    atomic_write_file(target, "old");
    {
        FaultyFiles files;
        files.fail_at(1, FileFault::eio);   // replaced by the next call
        files.fail_at(4, FileFault::kill);  // stat, open, fchmod, then the write: killed halfway through it
        try {
            atomic_write_file(target, "0123456789");
            FAIL("expected a kill");
        } catch (const SimulatedKill& k) {
            CHECK(k.at.op == FileOp::write);
        }
        CHECK(files.killed());
        CHECK(files.operations().size() == 4);  // nothing after death: the temporary was not removed
        CHECK_THROWS_AS(atomic_write_file(tmp.path / "g.json", "x"), FileError);  // the dead write nothing
        CHECK(files.operations().size() == 4);
    }
    CHECK(*read_file_if_exists(target) == "old");
    const auto left = others_in(tmp.path, "f.json");
    REQUIRE(left.size() == 1);
    CHECK(*read_file_if_exists(tmp.path / left[0]) == "01234");
    llmbatch::detail::remove_stale_temporaries(target);
    CHECK(others_in(tmp.path, "f.json").empty());
}

TEST_CASE("FaultyFiles covers only its scope, and scopes nest") {
    llmbatch_test::TempDir tmp("llmbatch-faulty", true);
    CHECK(&llmbatch::detail::file_ops() == &llmbatch::detail::file_ops_impl::posix);
    {
        FaultyFiles outer;
        {
            FaultyFiles inner;
            atomic_write_file(tmp.path / "a", "a");
            CHECK_FALSE(inner.operations().empty());
        }
        CHECK(outer.operations().empty());
        CHECK(read_file_if_exists(tmp.path / "a") == "a");
        CHECK(outer.operations().size() == 4);  // open, read, read the end, close
        CHECK(outer.operations()[1].op == FileOp::read);
    }
    CHECK(&llmbatch::detail::file_ops() == &llmbatch::detail::file_ops_impl::posix);
}

}  // TEST_SUITE

}  // namespace tests_testing_faulty_files
