// `eaq tokenize` and `eaq detokenize`: text ↔ token ids with a model's or a file's tokenizer.
// `--jsonl` is a batch mode for conformance tests: one JSON string per input line, one JSON
// array of ids per output line.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "core/error.h"
#include "tokenizer/tokenizer_factory.h"

namespace eaq::cli {
namespace {

struct TokenizerSource {
  std::string model;
  std::string tokenizer;
};

std::unique_ptr<tokenizer::Tokenizer> open_tokenizer(const TokenizerSource& source) {
  if (!source.tokenizer.empty()) return tokenizer::load_tokenizer_file(source.tokenizer);
  if (!source.model.empty()) return tokenizer::load_tokenizer_for_model(source.model);
  fail("give --model MODEL or --tokenizer FILE");
}

std::string read_all(const std::string& path) {
  if (path == "-") {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '{}'", path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A piece shown on one line: JSON string escaping keeps control characters visible.
std::string printable_piece(std::string_view piece) {
  return nlohmann::json(std::string(piece)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void register_tokenize_command(CLI::App& app) {
  auto source = std::make_shared<TokenizerSource>();
  auto text = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto ids_only = std::make_shared<bool>(false);
  auto no_special = std::make_shared<bool>(false);
  auto jsonl = std::make_shared<bool>(false);
  auto report_time = std::make_shared<bool>(false);

  auto* tokenize = app.add_subcommand("tokenize", "Text → tokens (pieces, or ids with --ids)");
  tokenize->add_option("--model", source->model, "Model: .gguf, llama2.c .bin, or HF folder");
  tokenize->add_option("--tokenizer", source->tokenizer,
                       "tokenizer.json, GPT-2 encoder.json/vocab.bpe folder, llama2.c tokenizer.bin or .gguf");
  tokenize->add_flag("--ids", *ids_only, "Print ids on one line, space-separated");
  tokenize->add_flag("--no-special", *no_special, "Do not add BOS/EOS or template tokens");
  tokenize->add_option("--file", *file, "Read the text from a file ('-' = stdin)");
  tokenize->add_flag("--jsonl", *jsonl,
                     "Batch: each input line is a JSON string; print one JSON id array per line");
  tokenize->add_flag("--report-time", *report_time,
                     "With --jsonl: print the bytes encoded and the seconds spent in encode to stderr");
  tokenize->add_option("text", *text, "The text to tokenize");
  tokenize->callback([=] {
    auto tok = open_tokenizer(*source);
    bool add_special = !*no_special;
    if (*jsonl) {
      std::istringstream lines(read_all(file->empty() ? "-" : *file));
      std::string line;
      std::size_t line_number = 0;
      std::string out;
      std::size_t encoded_bytes = 0;
      double encode_s = 0;
      while (std::getline(lines, line)) {
        ++line_number;
        if (line.empty()) continue;
        auto value = nlohmann::json::parse(line, nullptr, false);
        if (value.is_discarded() || !value.is_string()) {
          fail("--jsonl input line {} is not a JSON string", line_number);
        }
        const auto& doc = value.get_ref<const std::string&>();
        auto start = std::chrono::steady_clock::now();
        auto ids = tok->encode(doc, add_special);
        encode_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        encoded_bytes += doc.size();
        out += '[';
        for (std::size_t i = 0; i < ids.size(); ++i) {
          if (i) out += ',';
          out += std::to_string(ids[i]);
        }
        out += "]\n";
      }
      std::fwrite(out.data(), 1, out.size(), stdout);
      if (*report_time) fmt::print(stderr, "encoded_bytes={} encode_s={:.6f}\n", encoded_bytes, encode_s);
      return;
    }
    std::string input = file->empty() ? *text : read_all(*file);
    auto ids = tok->encode(input, add_special);
    if (*ids_only) {
      std::string out;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ' ';
        out += std::to_string(ids[i]);
      }
      fmt::print("{}\n", out);
      return;
    }
    for (auto id : ids) fmt::print("{}\t{}\n", id, printable_piece(tok->piece(id)));
  });

  auto dsource = std::make_shared<TokenizerSource>();
  auto id_args = std::make_shared<std::vector<std::int32_t>>();
  auto dfile = std::make_shared<std::string>();
  auto skip_special = std::make_shared<bool>(false);
  auto* detokenize = app.add_subcommand("detokenize", "Token ids → text");
  detokenize->add_option("--model", dsource->model, "Model: .gguf, llama2.c .bin, or HF folder");
  detokenize->add_option("--tokenizer", dsource->tokenizer, "Tokenizer file (see tokenize)");
  detokenize->add_option("--file", *dfile, "Read whitespace-separated ids from a file ('-' = stdin)");
  detokenize->add_flag("--skip-special", *skip_special, "Leave out special tokens (BOS, EOS, ...)");
  detokenize->add_option("ids", *id_args, "Token ids");
  detokenize->callback([=] {
    auto tok = open_tokenizer(*dsource);
    std::vector<std::int32_t> ids = *id_args;
    if (!dfile->empty()) {
      std::istringstream in(read_all(*dfile));
      std::string word;
      while (in >> word) {
        try {
          std::size_t used = 0;
          long long value = std::stoll(word, &used);
          if (used != word.size() || value < 0 || value > INT32_MAX) throw std::invalid_argument(word);
          ids.push_back(static_cast<std::int32_t>(value));
        } catch (const std::exception&) {
          fail("{}: '{}' is not a token id", *dfile, word);
        }
      }
    }
    std::string out = tok->decode(ids, *skip_special);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
  });
}

}  // namespace eaq::cli
