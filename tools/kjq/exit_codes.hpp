#pragma once
// kjq's exit codes, documented in README.md.
namespace kjq::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // the environment failed (I/O, permissions)
inline constexpr int kExitUsage = 2;         // bad command line
inline constexpr int kExitInvalidInput = 3;  // bad values, manifests or other input

}  // namespace kjq::cli
