// Chat templates: recognise a model's Jinja chat template by family and render simple
// system/user/assistant conversations exactly as the HF Jinja template would.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace eaq::tokenizer {

enum class ChatTemplateKind {
  kUnknown,
  kChatml,    // <|im_start|>role\n...<|im_end|>\n (SmolLM2, Qwen2/2.5/3)
  kLlama2,    // <s>[INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST]
  kLlama3,    // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
  kGemma,     // <start_of_turn>user\n...<end_of_turn>\n
  kMistral,   // <s>[INST] ... [/INST]... </s>
  kDeepseek,  // <｜User｜>...<｜Assistant｜> (DeepSeek-R1 distills)
  kZephyr,    // <|user|>\n...</s>\n<|assistant|>\n
};

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// What a particular template of a family does beyond the family's common shape.
struct ChatTemplate {
  ChatTemplateKind kind = ChatTemplateKind::kUnknown;
  std::string default_system_prompt;    // chatml templates that insert a system turn when none given
  bool generation_prompt_always = false;  // templates that ignore add_generation_prompt (Llama-3 base)
  bool think_block_in_last_assistant = false;  // Qwen3: empty <think> block before the final answer
};

ChatTemplateKind detect_chat_template(std::string_view jinja_source);
std::string_view chat_template_kind_name(ChatTemplateKind kind);
// The kind plus the per-template details read from the source (default system prompt, ...).
ChatTemplate parse_chat_template(std::string_view jinja_source);

// Renders `messages` in the family's standard form. Throws eaq::Error for kUnknown or for a
// conversation the family cannot express (e.g. roles other than system/user/assistant).
std::string apply_chat_template(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, std::string_view bos_token,
                                std::string_view eos_token);
std::string apply_chat_template(const ChatTemplate& chat_template,
                                const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, std::string_view bos_token,
                                std::string_view eos_token);

}  // namespace eaq::tokenizer
