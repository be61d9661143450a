// Key files: how daemons and clients keep long-lived secret keys on disk.
//
// A key file holds exactly one 32-byte secret as 64 lowercase hex digits and a newline. It lives
// in a directory with mode 0700 and has mode 0600; it is written to a temporary file in the same
// directory, fsync'ed, and renamed over the target (or hard-linked into place when it must not
// overwrite, so an existing key is never replaced by a race), then the directory is fsync'ed, so
// a crash leaves either the old or the new key, never half of one. Loading refuses files that
// group or others can access, and files of the wrong size or format, with a message that says
// how to fix it. Key bytes never appear in any message. All functions are thread-safe (they use
// no shared state), but two processes writing the same path race: the last rename wins.
#pragma once

#include <filesystem>
#include <string_view>

#include "sotto/core/secret.h"
#include "sotto/core/status.h"

namespace sotto {

// Creates `dir` (and parents) with mode 0700 if missing; refuses (InvalidArgument) an existing
// directory that group or others can access.
Status EnsurePrivateDirectory(const std::filesystem::path& dir);

// Writes `key` to `path` atomically (see above). The parent directory must already be private
// (EnsurePrivateDirectory). Overwrites an existing file only if `overwrite` is set.
Status WriteKeyFile(const std::filesystem::path& path, const LockedSecret<32>& key,
                    bool overwrite = false);

// NotFound if the file does not exist; InvalidArgument if it is not a regular file or group or
// others can access it; Corruption if it is not 64 lowercase hex digits and a newline.
Result<LockedSecret<32>> ReadKeyFile(const std::filesystem::path& path);

// Writes any small file atomically (temp file + fsync + rename), mode 0600. For public files
// next to the keys (descriptors, configs).
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace sotto
