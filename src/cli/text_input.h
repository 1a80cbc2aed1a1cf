// Text the commands read: a whole file (prompt, calibration or scoring text), and the default text
// of `eaq quality` and `eaq quantize --budget-bpw`: what the project itself ships (README.md, docs/*.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace eaq::cli {

// The file's bytes; eaq::Error naming `what` ("prompt", "calibration", ...) and the path otherwise.
std::string read_text_file(const std::string& path, std::string_view what);

// The contents of `paths` joined by blank lines; the project's own docs when `paths` is empty.
std::string read_texts_or_project_docs(const std::vector<std::string>& paths, std::string_view what);

}  // namespace eaq::cli
