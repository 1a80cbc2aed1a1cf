// Chat template families: detection from the Jinja source and rendering of plain conversations.
#include "tokenizer/chat_template.h"

#include <fmt/format.h>

#include "core/error.h"

namespace eaq::tokenizer {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Jinja's `| trim` and Python's str.strip(): removes leading and trailing whitespace.
std::string_view strip(std::string_view s) {
  const char* spaces = " \t\n\r\f\v";
  auto begin = s.find_first_not_of(spaces);
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(spaces);
  return s.substr(begin, end - begin + 1);
}

void check_roles(const std::vector<ChatMessage>& messages, std::string_view family) {
  for (const auto& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") {
      fail("chat template {}: unsupported role '{}' (use system, user or assistant)", family, m.role);
    }
  }
}

// The text a chatml template inserts as a system turn when the conversation has none, read from
// a literal '<|im_start|>system\n...<|im_end|>' in the source (SmolLM2, Qwen2.5).
std::string chatml_default_system(std::string_view source) {
  std::string_view marker = "<|im_start|>system";
  for (auto pos = source.find(marker); pos != std::string_view::npos;
       pos = source.find(marker, pos + 1)) {
    auto rest = source.substr(pos + marker.size());
    if (rest.starts_with("\\n")) {
      rest.remove_prefix(2);
    } else if (rest.starts_with("\n")) {
      rest.remove_prefix(1);
    } else {
      continue;
    }
    auto end = rest.find("<|im_end|>");
    if (end == std::string_view::npos) continue;
    auto text = rest.substr(0, end);
    if (text.empty() || text.find_first_of("'\"{}+") != std::string_view::npos) continue;
    return std::string(text);
  }
  return {};
}

std::string render_chatml(const ChatTemplate& t, const std::vector<ChatMessage>& messages,
                          bool add_generation_prompt) {
  std::string out;
  if (!t.default_system_prompt.empty() && (messages.empty() || messages[0].role != "system")) {
    out += "<|im_start|>system\n" + t.default_system_prompt + "<|im_end|>\n";
  }
  // Qwen3 puts an empty think block in front of assistant turns after the last user turn.
  std::ptrdiff_t last_user = static_cast<std::ptrdiff_t>(messages.size()) - 1;
  for (std::ptrdiff_t i = last_user; i >= 0; --i) {
    if (messages[i].role == "user") {
      last_user = i;
      break;
    }
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (t.think_block_in_last_assistant && m.role == "assistant" &&
        static_cast<std::ptrdiff_t>(i) > last_user && i + 1 == messages.size()) {
      std::string_view content = m.content;
      while (content.starts_with('\n')) content.remove_prefix(1);
      out += "<|im_start|>assistant\n<think>\n\n</think>\n\n" + std::string(content) + "<|im_end|>\n";
      continue;
    }
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_llama2(const std::vector<ChatMessage>& messages, std::string_view bos,
                          std::string_view eos) {
  std::size_t first = 0;
  std::string system;
  bool has_system = !messages.empty() && messages[0].role == "system";
  if (has_system) {
    system = messages[0].content;
    first = 1;
  }
  std::string out;
  for (std::size_t i = first; i < messages.size(); ++i) {
    const auto& m = messages[i];
    bool expect_user = (i - first) % 2 == 0;
    if ((m.role == "user") != expect_user) {
      fail("chat template llama2: conversation roles must alternate user/assistant/user/...");
    }
    std::string content = m.content;
    if (i == first && has_system) content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + m.content;
    if (m.role == "user") {
      out += std::string(bos) + "[INST] " + std::string(strip(content)) + " [/INST]";
    } else {
      out += " " + std::string(strip(content)) + " " + std::string(eos);
    }
  }
  return out;
}

std::string render_llama3(const ChatTemplate& t, const std::vector<ChatMessage>& messages,
                          bool add_generation_prompt, std::string_view bos) {
  std::string out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (i == 0) out += bos;
    out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" +
           std::string(strip(messages[i].content)) + "<|eot_id|>";
  }
  if (add_generation_prompt || t.generation_prompt_always) {
    out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  }
  return out;
}

// Gemma 3: the system text joins the first user turn; the assistant is called "model".
std::string render_gemma(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                         std::string_view bos) {
  std::string out(bos);
  std::size_t first = 0;
  std::string prefix;
  if (!messages.empty() && messages[0].role == "system") {
    prefix = messages[0].content + "\n\n";
    first = 1;
  }
  for (std::size_t i = first; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if ((m.role == "user") != ((i - first) % 2 == 0)) {
      fail("chat template gemma: conversation roles must alternate user/assistant/user/...");
    }
    std::string role = m.role == "assistant" ? "model" : m.role;
    std::string content = (i == first ? prefix : std::string()) + m.content;
    out += "<start_of_turn>" + role + "\n" + std::string(strip(content)) + "<end_of_turn>\n";
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

// Mistral v0.1 instruct: no system role in the template; a system message joins the first user
// turn as "system\n\nuser" (what Mistral's later templates do).
std::string render_mistral(const std::vector<ChatMessage>& messages, std::string_view bos,
                           std::string_view eos) {
  std::string out(bos);
  std::size_t first = 0;
  std::string prefix;
  if (!messages.empty() && messages[0].role == "system") {
    prefix = messages[0].content + "\n\n";
    first = 1;
  }
  for (std::size_t i = first; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if ((m.role == "user") != ((i - first) % 2 == 0)) {
      fail("chat template mistral: conversation roles must alternate user/assistant/user/...");
    }
    if (m.role == "user") {
      out += "[INST] " + (i == first ? prefix : std::string()) + m.content + " [/INST]";
    } else {
      out += m.content + std::string(eos);
    }
  }
  return out;
}

// DeepSeek-R1 distills: bos, system text, then <｜User｜>/<｜Assistant｜> turns.
std::string render_deepseek(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                            std::string_view bos, std::string_view eos) {
  std::string out(bos);
  for (const auto& m : messages) {
    if (m.role == "system") out += m.content;
  }
  for (const auto& m : messages) {
    if (m.role == "user") {
      out += "<｜User｜>" + m.content;
    } else if (m.role == "assistant") {
      std::string content = m.content;
      if (auto pos = content.find("</think>"); pos != std::string::npos) {
        content = content.substr(pos + 8);
      }
      out += "<｜Assistant｜>" + content + std::string(eos);
    }
  }
  if (add_generation_prompt) out += "<｜Assistant｜><think>\n";
  return out;
}

std::string render_zephyr(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                          std::string_view eos) {
  std::string out;
  for (const auto& m : messages) {
    out += "<|" + m.role + "|>\n" + m.content + std::string(eos) + "\n";
  }
  if (add_generation_prompt) out += "<|assistant|>\n";
  return out;
}

}  // namespace

ChatTemplateKind detect_chat_template(std::string_view s) {
  if (contains(s, "<|im_start|>")) return ChatTemplateKind::kChatml;
  if (contains(s, "<|start_header_id|>")) return ChatTemplateKind::kLlama3;
  if (contains(s, "<start_of_turn>")) return ChatTemplateKind::kGemma;
  if (contains(s, "<｜User｜>") || contains(s, "<｜Assistant｜>")) return ChatTemplateKind::kDeepseek;
  if (contains(s, "<<SYS>>")) return ChatTemplateKind::kLlama2;
  if (contains(s, "[INST]")) return ChatTemplateKind::kMistral;
  if (contains(s, "<|user|>") && contains(s, "<|assistant|>")) return ChatTemplateKind::kZephyr;
  return ChatTemplateKind::kUnknown;
}

std::string_view chat_template_kind_name(ChatTemplateKind kind) {
  switch (kind) {
    case ChatTemplateKind::kChatml: return "chatml";
    case ChatTemplateKind::kLlama2: return "llama2";
    case ChatTemplateKind::kLlama3: return "llama3";
    case ChatTemplateKind::kGemma: return "gemma";
    case ChatTemplateKind::kMistral: return "mistral";
    case ChatTemplateKind::kDeepseek: return "deepseek";
    case ChatTemplateKind::kZephyr: return "zephyr";
    case ChatTemplateKind::kUnknown: break;
  }
  return "unknown";
}

ChatTemplate parse_chat_template(std::string_view source) {
  ChatTemplate t;
  t.kind = detect_chat_template(source);
  if (t.kind == ChatTemplateKind::kChatml) {
    t.default_system_prompt = chatml_default_system(source);
    t.think_block_in_last_assistant = contains(source, "<think>") && contains(source, "reasoning_content");
  }
  if (t.kind == ChatTemplateKind::kLlama3) {
    t.generation_prompt_always = !contains(source, "add_generation_prompt");
  }
  return t;
}

std::string apply_chat_template(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, std::string_view bos_token,
                                std::string_view eos_token) {
  ChatTemplate t;
  t.kind = kind;
  return apply_chat_template(t, messages, add_generation_prompt, bos_token, eos_token);
}

std::string apply_chat_template(const ChatTemplate& t, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, std::string_view bos,
                                std::string_view eos) {
  check_roles(messages, chat_template_kind_name(t.kind));
  switch (t.kind) {
    case ChatTemplateKind::kChatml: return render_chatml(t, messages, add_generation_prompt);
    case ChatTemplateKind::kLlama2: return render_llama2(messages, bos, eos);
    case ChatTemplateKind::kLlama3: return render_llama3(t, messages, add_generation_prompt, bos);
    case ChatTemplateKind::kGemma: return render_gemma(messages, add_generation_prompt, bos);
    case ChatTemplateKind::kMistral: return render_mistral(messages, bos, eos);
    case ChatTemplateKind::kDeepseek: return render_deepseek(messages, add_generation_prompt, bos, eos);
    case ChatTemplateKind::kZephyr: return render_zephyr(messages, add_generation_prompt, eos);
    case ChatTemplateKind::kUnknown: break;
  }
  fail("chat template: unknown template family; eaq renders chatml, llama2, llama3, gemma, mistral, "
       "deepseek and zephyr templates. Pass the prompt as plain text instead.");
}

}  // namespace eaq::tokenizer
