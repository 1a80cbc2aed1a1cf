// Where eaq caches per-machine measurements and file hashes: $EAQ_CACHE_DIR, else
// $XDG_CACHE_HOME/eaq, else $HOME/.cache/eaq. Empty when none of them is set.
#pragma once

#include <filesystem>
#include <string>

namespace eaq::experiment {

// `configured` (a spec's cache_dir) wins when not empty.
std::filesystem::path cache_dir(const std::string& configured = "");

// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half a
// file. Returns false (and leaves no temporary behind) when it cannot; caching is best effort.
bool write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace eaq::experiment
