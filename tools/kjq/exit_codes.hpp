#pragma once
// kjq's exit codes, documented in README.md and docs/runtime.md.
namespace kjq::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // the environment failed (I/O, permissions, API unreachable)
inline constexpr int kExitUsage = 2;         // bad command line
inline constexpr int kExitInvalidInput = 3;  // bad values, manifests or other input (also unsafe queue names)
inline constexpr int kExitJobFailed = 4;     // --wait / watch: the job ended Failed (reason on stderr)
inline constexpr int kExitDenied = 5;        // the API refused the credentials or the verb (401/403)
inline constexpr int kExitNotFound = 6;      // the named Job does not exist
inline constexpr int kExitConflict = 7;      // a Job with that name exists and belongs to another run
inline constexpr int kExitDoctor = 8;        // kjq doctor found problems

}  // namespace kjq::cli
