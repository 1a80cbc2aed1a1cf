// Reading text inputs; the default corpus is the source tree's README.md then docs/*.md, sorted.
#include "cli/text_input.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace eaq::cli {

std::string read_text_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read the {} file '{}': check the path", what, path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
std::vector<std::string> project_doc_files(std::string_view what) {
  namespace fs = std::filesystem;
  const fs::path root = EAQ_SOURCE_ROOT;
  std::vector<std::string> files;
  if (fs::exists(root / "README.md")) files.push_back((root / "README.md").string());
  if (fs::is_directory(root / "docs")) {
    std::vector<std::string> docs;
    for (const auto& e : fs::directory_iterator(root / "docs")) {
      if (e.path().extension() == ".md") docs.push_back(e.path().string());
    }
    std::sort(docs.begin(), docs.end());
    files.insert(files.end(), docs.begin(), docs.end());
  }
  if (files.empty()) fail("no default {} text under '{}': pass a text file", what, root.string());
  return files;
}
}  // namespace

std::string read_texts_or_project_docs(const std::vector<std::string>& paths, std::string_view what) {
  const auto files = paths.empty() ? project_doc_files(what) : paths;
  std::string text;
  for (const auto& path : files) text += read_text_file(path, what) + "\n\n";
  return text;
}

}  // namespace eaq::cli
