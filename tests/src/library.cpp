// The library's non-template code compiled once, as a project using separate compilation does
// (LLMBATCH_SEPARATE_COMPILATION defined for this file and every file linked with it).
#include <llmbatch/src.hpp>
