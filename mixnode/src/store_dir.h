// The node store's state directory (internal to store.cpp): it holds the pool and the
// mailboxes, so it is created 0700 and refused if group or others may read or enter it.
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "sotto/core/status.h"

namespace sotto::mixnode::store_internal {

// Created 0700 if missing; refused if anyone but the owner may read or enter it, since it holds
// the pool and the mailboxes.
inline Status PrepareDirectory(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found) {
    fs::create_directories(dir, ec);
    if (!ec) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) {
      return Status::IoError(
          fmt::format("cannot create node store directory {}: {}", dir.string(), ec.message()));
    }
    return Status::Ok();
  }
  if (ec) {
    return Status::IoError(
        fmt::format("cannot inspect node store directory {}: {}", dir.string(), ec.message()));
  }
  if (st.type() != fs::file_type::directory) {
    return Status::InvalidArgument(
        fmt::format("node store path {} exists and is not a directory (choose a state directory)",
                    dir.string()));
  }
  const fs::perms open_to_others = fs::perms::group_all | fs::perms::others_all;
  if ((st.permissions() & open_to_others) != fs::perms::none) {
    return Status::InvalidArgument(fmt::format(
        "node store directory {} is accessible by group or others (mode {:o}); run 'chmod 700 {}'",
        dir.string(), static_cast<unsigned>(st.permissions() & fs::perms::mask), dir.string()));
  }
  return Status::Ok();
}

}  // namespace sotto::mixnode::store_internal
