#include "clienteling_commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <vector>

#include "kassa/base/atomic_file.h"

namespace kassa::ctl {
namespace json = boost::json;

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

void PrintOperator(const json::value& v) {
  const json::value& op = v.as_object().at("operator");
  std::printf("signed in: %s (%s), role %s\n", Str(op, "name").c_str(), Str(op, "worker_id").c_str(),
              Str(op, "role").c_str());
}

void PrintFacts(const json::value& facts) {
  for (const auto& f : facts.as_array()) {
    std::printf("    %s: %s%s\n", Str(f, "label").c_str(), Str(f, "value").c_str(),
                Str(f, "source") == "measure" ? "  (headquarters' measure)" : "");
  }
}

void PrintBook(const json::value& v) {
  const auto& o = v.as_object();
  if (o.contains("owner")) {
    std::printf("client book of %s, number %s: %s customer(s)\n", Str(v, "owner").c_str(), Str(v, "book_number").c_str(),
                Str(v, "total").c_str());
  } else {
    std::printf("store client book: %s customer(s)\n", Str(v, "total").c_str());
  }
  for (const auto& item : o.at("items").as_array()) {
    const json::value& c = item.as_object().at("customer");
    std::string owners;
    for (const auto& w : item.as_object().at("owners").as_array()) owners += (owners.empty() ? "" : ",") + std::string(w.as_string());
    std::printf("  %-14s %-30s  books: %s\n", Str(c, "account").c_str(), Str(c, "name").c_str(), owners.c_str());
    PrintFacts(item.as_object().at("card"));
  }
  std::printf("(%s ms)\n", Str(v, "query_ms").c_str());
}

void PrintTimeline(const json::value& v) {
  const auto& entries = v.as_object().at("timeline").as_array();
  if (entries.empty()) std::printf("no activities, notes or conflicts\n");
  for (const auto& e : entries) {
    if (Str(e, "kind") == "conflict") {  // a value replaced by an edit made elsewhere at the same time
      std::printf("%s  %-8s %-12s %-8s was \"%s\", replaced by an edit made elsewhere at the same time\n",
                  Str(e, "at").c_str(), "conflict", Str(e, "field").c_str(), Str(e, "worker_id").c_str(),
                  Str(e, "text").c_str());
      continue;
    }
    std::printf("%s  %-8s %-12s %-8s %s\n", Str(e, "at").c_str(), Str(e, "kind").c_str(),
                Str(e, "activity_type").c_str(), Str(e, "worker_id").c_str(), Str(e, "text").c_str());
  }
}

// Reads "--name value" pairs from argv[i..]; positional words go to `words`.
std::optional<int> Options(int argc, char** argv, int i, std::vector<std::pair<std::string, std::string>>& opts,
                           std::vector<std::string>& words, std::initializer_list<std::string_view> flags) {
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      words.push_back(a);
      continue;
    }
    bool flag = false;
    for (auto f : flags) flag = flag || a == f;
    if (flag) {
      opts.emplace_back(a, "");
      continue;
    }
    if (i + 1 >= argc) return Usage(a + " needs a value");
    opts.emplace_back(a, argv[++i]);
  }
  return std::nullopt;
}

}  // namespace

std::string SessionFilePath() {
  const std::string file = Env("KASSA_SESSION_FILE");
  if (!file.empty()) return file;
  return Env("HOME") + "/.kassactl-session";
}

std::string LoadAdminToken() {
  std::string token = Env("KASSA_ADMIN_TOKEN");
  if (!token.empty()) return token;
  std::string file = Env("KASSA_ADMIN_TOKEN_FILE");
  if (file.empty()) file = Env("HOME") + "/.kassactl-admin-token";
  std::ifstream in(file);
  std::getline(in, token);
  return token;
}

std::string LoadSessionToken() {
  std::string token = Env("KASSA_SESSION");
  if (!token.empty()) return token;
  std::ifstream in(SessionFilePath());
  std::getline(in, token);
  return token;
}

int LoginCommand(Globals& g, int argc, char** argv, int i) {
  std::vector<std::pair<std::string, std::string>> opts;
  std::vector<std::string> words;
  if (auto rc = Options(argc, argv, i, opts, words, {})) return *rc;
  json::object body;
  std::string pin = Env("KASSA_PIN");
  for (const auto& [k, v] : opts) {
    if (k == "--pin") pin = v;
    else if (k == "--badge") body["badge"] = v;
    else return Usage("login: unknown option " + k);
  }
  if (!body.contains("badge")) {
    if (words.size() != 1) return Usage("login takes a WORKER id (or --badge B)");
    if (pin.empty() && !std::getline(std::cin, pin)) return Usage("login: give the PIN with --pin, $KASSA_PIN or on stdin");
    body["worker_id"] = words[0];
    body["pin"] = pin;
  } else if (!words.empty()) {
    return Usage("login --badge takes no WORKER id");
  }
  json::value out;
  g.token.clear();
  if (auto rc = Call(g, "POST", "/v1/session", json::serialize(body), out)) return *rc;
  const std::string path = SessionFilePath();
  // 0600 from the start: the token signs in as the operator until it idles out.
  if (!kassa::WriteFileAtomically(path, Str(out, "token") + "\n", 0600).ok()) {
    std::fprintf(stderr, "kassactl: signed in, but cannot write the session to %s\n", path.c_str());
    return kFailed;
  }
  return Print(g, out, PrintOperator);
}

int LogoutCommand(Globals& g, int argc, int i) {
  if (i != argc) return Usage("logout takes no arguments");
  json::value out;
  const auto rc = Call(g, "DELETE", "/v1/session", "", out);
  std::remove(SessionFilePath().c_str());
  if (rc) return *rc;
  return Print(g, out, [](const json::value& v) { std::printf("signed out: %s\n", Str(v, "signed_out").c_str()); });
}

int ClientbookCommand(const Globals& g, int argc, char** argv, int i) {
  if (i >= argc) return Usage("clientbook needs a subcommand: list, store, add, remove or reassign");
  const std::string sub = argv[i++];
  std::vector<std::pair<std::string, std::string>> opts;
  std::vector<std::string> words;
  if (auto rc = Options(argc, argv, i, opts, words, {})) return *rc;
  json::value out;
  if (sub == "list" || sub == "store") {
    if (!words.empty()) return Usage("clientbook " + sub + " takes options only");
    std::string query = sub == "store" ? "store=true" : "";
    const auto add = [&](const std::string& k, const std::string& v) {
      query += (query.empty() ? "" : "&") + Encode(k) + "=" + Encode(v);
    };
    for (const auto& [k, v] : opts) {
      if (k == "--owner" && sub == "list") {
        add("owner", v);
      } else if (k == "--text") {
        add("q", v);
      } else if (k == "--limit" || k == "--offset" || k == "--sort") {
        add(k.substr(2), v);
      } else if (k == "--filter" || k == "--min" || k == "--max" || k == "--within-days") {
        const auto eq = v.find('=');
        if (eq == std::string::npos) return Usage(k + " takes NAME=VALUE");
        const std::string suffix = k == "--filter" ? "" : k == "--min" ? ".min" : k == "--max" ? ".max" : ".within_days";
        add("f." + v.substr(0, eq) + suffix, v.substr(eq + 1));
      } else {
        return Usage("clientbook " + sub + ": unknown option " + k);
      }
    }
    if (auto rc = Call(g, "GET", "/v1/clientbook" + (query.empty() ? "" : "?" + query), "", out)) return *rc;
    return Print(g, out, PrintBook);
  }
  if (sub == "add" || sub == "remove") {
    if (words.size() != 1) return Usage("clientbook " + sub + " takes one customer REF");
    std::string owner;
    for (const auto& [k, v] : opts) {
      if (k != "--owner") return Usage("clientbook " + sub + ": unknown option " + k);
      owner = v;
    }
    if (sub == "add") {
      json::object body{{"customer", words[0]}};
      if (!owner.empty()) body["owner"] = owner;
      if (auto rc = Call(g, "POST", "/v1/clientbook/entries", json::serialize(body), out)) return *rc;
      return Print(g, out, [](const json::value& v) { std::printf("added %s\n", Str(v, "added").c_str()); });
    }
    const std::string path = "/v1/clientbook/entries/" + Encode(words[0]) + (owner.empty() ? "" : "?owner=" + Encode(owner));
    if (auto rc = Call(g, "DELETE", path, "", out)) return *rc;
    return Print(g, out, [](const json::value& v) { std::printf("removed %s\n", Str(v, "removed").c_str()); });
  }
  if (sub == "reassign") {
    json::object body;
    for (const auto& [k, v] : opts) {
      if (k != "--from" && k != "--to") return Usage("clientbook reassign: unknown option " + k);
      body[k.substr(2)] = v;
    }
    if (!body.contains("from") || !body.contains("to") || words.empty()) {
      return Usage("clientbook reassign --from WORKER --to WORKER REF...");
    }
    json::array refs;
    for (const auto& w : words) refs.emplace_back(w);
    body["customers"] = std::move(refs);
    if (auto rc = Call(g, "POST", "/v1/clientbook/reassign", json::serialize(body), out)) return *rc;
    return Print(g, out, [](const json::value& v) {
      std::printf("reassigned %s customer(s) from %s to %s\n", Str(v, "reassigned").c_str(), Str(v, "from").c_str(),
                  Str(v, "to").c_str());
    });
  }
  return Usage("unknown subcommand clientbook " + sub);
}

int CardCommand(const Globals& g, int argc, char** argv, int i) {
  if (i + 1 != argc) return Usage("card takes one customer REF");
  json::value out;
  if (auto rc = Call(g, "GET", "/v1/customers/" + Encode(argv[i]) + "/card", "", out)) return *rc;
  return Print(g, out, [](const json::value& v) {
    const json::value& c = v.as_object().at("customer");
    std::printf("%s  %s\n", Str(c, "account").c_str(), Str(c, "name").c_str());
    for (const char* k : {"email", "phone"}) {
      if (!Str(c, k).empty()) std::printf("  %s: %s\n", k, Str(c, k).c_str());
    }
    PrintFacts(v.as_object().at("facts"));
    std::string books;
    for (const auto& b : v.as_object().at("books").as_array()) books += (books.empty() ? "" : ", ") + std::string(b.as_string());
    std::printf("  in the client books of: %s\n", books.empty() ? "nobody" : books.c_str());
  });
}

int ActivityCommand(const Globals& g, int argc, char** argv, int i) {
  if (i >= argc) return Usage("activity needs a subcommand: add or list");
  const std::string sub = argv[i++];
  std::vector<std::pair<std::string, std::string>> opts;
  std::vector<std::string> words;
  if (auto rc = Options(argc, argv, i, opts, words, {})) return *rc;
  if (words.size() != 1) return Usage("activity " + sub + " takes one customer REF");
  json::value out;
  const std::string base = "/v1/customers/" + Encode(words[0]);
  if (sub == "list") {
    std::string query;
    for (const auto& [k, v] : opts) {
      if (k != "--limit") return Usage("activity list: unknown option " + k);
      query = "?limit=" + Encode(v);
    }
    if (auto rc = Call(g, "GET", base + "/timeline" + query, "", out)) return *rc;
    return Print(g, out, PrintTimeline);
  }
  if (sub != "add") return Usage("unknown subcommand activity " + sub);
  json::object body;
  for (const auto& [k, v] : opts) {
    if (k != "--type" && k != "--at" && k != "--text") return Usage("activity add: unknown option " + k);
    body[k.substr(2)] = v;
  }
  if (!body.contains("type")) return Usage("activity add needs --type ID");
  if (auto rc = Call(g, "POST", base + "/activities", json::serialize(body), out)) return *rc;
  return Print(g, out, [](const json::value& v) {
    std::printf("recorded %s %s at %s\n", Str(v, "activity_type").c_str(), Str(v, "id").c_str(), Str(v, "at").c_str());
  });
}

int NoteCommand(const Globals& g, int argc, char** argv, int i) {
  if (i >= argc || std::string(argv[i]) != "add") return Usage("note add REF --text S");
  std::vector<std::pair<std::string, std::string>> opts;
  std::vector<std::string> words;
  if (auto rc = Options(argc, argv, i + 1, opts, words, {})) return *rc;
  if (words.size() != 1) return Usage("note add takes one customer REF");
  json::object body;
  for (const auto& [k, v] : opts) {
    if (k != "--text") return Usage("note add: unknown option " + k);
    body["text"] = v;
  }
  json::value out;
  if (auto rc = Call(g, "POST", "/v1/customers/" + Encode(words[0]) + "/notes", json::serialize(body), out)) return *rc;
  return Print(g, out, [](const json::value& v) { std::printf("noted %s at %s\n", Str(v, "id").c_str(), Str(v, "at").c_str()); });
}

}  // namespace kassa::ctl
