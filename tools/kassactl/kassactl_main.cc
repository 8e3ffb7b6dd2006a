// kassactl: the command-line client of kassad's local API. Scripts and tests
// rely on its options, its --json output and its exit codes (README.md).

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "clienteling_commands.h"
#include "ctl_support.h"
#include "http_client.h"
#include "kassa/base/version.h"

namespace {
namespace json = boost::json;
using kassa::ctl::HttpReply;
using namespace kassa::ctl;  // NOLINT: the command-line tool and its helpers


constexpr const char* kUsageText = R"(usage: kassactl [--url URL] [--json] COMMAND ...   (or --version, --help)

Client of kassad's local API.
  --url URL        kassad's API (default $KASSA_URL, else http://127.0.0.1:8080)
  --json           print one JSON document on stdout

Customer data needs a signed-in operator: `kassactl login` keeps the session
in $KASSA_SESSION_FILE (default ~/.kassactl-session, mode 0600); $KASSA_SESSION
overrides it.

commands:
  login WORKER [--pin PIN]           sign in (PIN from --pin, $KASSA_PIN or stdin)
  login --badge BADGE                sign in with a badge number
  logout                             end the session
  clientbook list [--owner W] [--text S] [--filter NAME=V[,V2]] [--min NAME=V]
                  [--max NAME=V] [--within-days NAME=N] [--sort name|recent]
                  [--limit N] [--offset N]
                                     a client book (default: yours), filtered
  clientbook store [same options]    every book of the store (managers)
  clientbook add REF [--owner W]     add a customer to a book (default: yours)
  clientbook remove REF [--owner W]
  clientbook reassign --from W --to W REF...
  card REF                           contact details and the three card facts
  activity add REF --type ID [--at 2026-11-22T10:00:00Z] [--text S]
  activity list REF [--limit N]      the timeline: activities, notes, conflicts; newest first
  note add REF --text S
  customer add [FIELDS] [--confirm-duplicates]
                                     create a customer (store defaults fill the rest);
                                     refused, listing them, when likely duplicates
                                     exist (same email or phone, similar name with the
                                     same postal code or phone prefix) unless confirmed
  customer show REF                  REF: account number or local id
  customer edit REF [FIELDS] [--version N]
                                     change fields; N is the version the edit
                                     starts from (default: the current one)
  customer search TEXT [--limit N] [--chain]
                                     name tokens, phone, email, account, card;
                                     --chain searches headquarters (online only)
  outbox                             queued operations: length and oldest entry
  sync status                        link to headquarters, effective mode, outbox,
                                     oldest pending age, last acknowledgement
  sync now                           connect now if offline, send the outbox now
  quarantine                         operations headquarters rejected, with reasons
  quarantine resend SEQ [FIELDS]     fix a rejected creation or edit (FIELDS as customer
                                     edit, e.g. another --loyalty-card) and send it again
  quarantine discard SEQ             give a rejected operation up: a creation's customer
                                     leaves this terminal, an edit's customer takes
                                     headquarters' values again (online only)
  hq status                          with --url of kassa-hq's admin API: customers,
                                     terminals with cursor and lag, rejections
                                     (admin token: $KASSA_ADMIN_TOKEN, else
                                     $KASSA_ADMIN_TOKEN_FILE or ~/.kassactl-admin-token)
  hq audit                           the same URL: the newest 100 changes made at
                                     headquarters, who and when
  hq erase ACCOUNT|ID [--legal-entity LE]
                                     the same URL: erase a customer everywhere (an
                                     admin token); ID with LE for one created offline
                                     that headquarters has not received
  hq duplicates                      the same URL: likely duplicates across the stores
                                     of each legal entity, pairs with their reasons,
                                     for a person to review (every customer scanned)
  hq erasures                        the same URL: erasures and which terminals
                                     have not confirmed them yet
  hq wipe TERMINAL                   the same URL: order a lost or stolen terminal
                                     wiped (keys and data destroyed, certificate
                                     revoked once it confirms)
  hq wipes                           the same URL: wipe orders and their state
  hq export ACCOUNT                  the same URL: everything held about one customer
                                     (data-subject access; JSON, audited)
  hq access ACCOUNT|ID               the same URL: who opened, listed, printed,
                                     exported, changed or erased the customer, where
                                     and when, over the whole chain (newest 100)
  hq keys                            the same URL: the master key generations and
                                     rotation progress
  hq rotate-key                      the same URL: begin a master key rotation
  hq retention                       the same URL: run the retention sweep now
  status                             customers, pending, outbox, storage use
  doctor                             check customers, indexes and outbox agree

FIELDS:
  --type person|organization   --first-name S   --last-name S   --org-name S
  --email S   --phone S   --group ID   --receipt-preference print|email|print_and_email|none
  --receipt-email S   --currency ISO   --language TAG
  --secondary-email 'VALUE[;consent=yes|no]'     (repeatable)
  --secondary-phone 'VALUE[;consent=yes|no]'     (repeatable)
  --address 'street=..;city=..;postal=..;region=..;country=..;purpose=home|business|office|post_box;contact=..;contact-phone=..'
                                                 (repeatable)
  --affiliation S   --attribute NAME=VALUE   --loyalty-card S   (repeatable)
  A repeated option given in an edit replaces that whole list.

exit status: 0 success, 2 usage, 3 invalid input (the message names the field),
4 not found, 5 unavailable or refused (kassad down, storage full, version
conflict, not allowed, likely duplicates), 1 anything else (doctor found problems).
)";

void PrintCustomer(const json::value& c) {
  const auto& o = c.as_object();
  std::printf("%s  %s\n", Str(c, "account").c_str(), Str(c, "name").c_str());
  std::printf("  id: %s   type: %s   version: %s\n", Str(c, "id").c_str(), Str(c, "type").c_str(), Str(c, "version").c_str());
  for (const char* k : {"email", "phone", "customer_group", "receipt_preference", "receipt_email", "currency", "language"}) {
    if (!Str(c, k).empty()) std::printf("  %s: %s\n", k, Str(c, k).c_str());
  }
  for (const char* list : {"secondary_emails", "secondary_phones"}) {
    for (const auto& e : o.at(list).as_array()) {
      const auto& consent = e.as_object().at("consent");
      std::printf("  %s: %s (consent %s, %s by %s on %s)\n", list, Str(e, "value").c_str(),
                  consent.as_object().at("granted").as_bool() ? "yes" : "no", Str(consent, "captured_at").c_str(),
                  Str(consent, "operator").c_str(), Str(consent, "terminal").c_str());
    }
  }
  for (const auto& a : o.at("addresses").as_array()) {
    std::printf("  address (%s): %s, %s %s %s, %s%s%s\n", Str(a, "purpose").c_str(), Str(a, "street").c_str(),
                Str(a, "postal_code").c_str(), Str(a, "city").c_str(), Str(a, "region").c_str(), Str(a, "country").c_str(),
                Str(a, "contact_name").empty() ? "" : ", contact ", Str(a, "contact_name").c_str());
  }
  for (const char* list : {"affiliations", "loyalty_cards"}) {
    for (const auto& e : o.at(list).as_array()) std::printf("  %s: %s\n", list, std::string(e.as_string()).c_str());
  }
  for (const auto& a : o.at("attributes").as_array()) {
    std::printf("  attribute %s = %s\n", Str(a, "name").c_str(), Str(a, "value").c_str());
  }
  std::printf("  created: %s   changed: %s\n", Str(c, "created_at").c_str(), Str(c, "changed_at").c_str());
}

// Splits "a;k=v;k2=v2" into its first bare part and its key=value pairs.
std::map<std::string, std::string> KeyValues(const std::string& s, std::string* bare) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  bool first = true;
  while (start <= s.size()) {
    std::size_t end = s.find(';', start);
    if (end == std::string::npos) end = s.size();
    const std::string part = s.substr(start, end - start);
    const auto eq = part.find('=');
    if (first && bare != nullptr && (eq == std::string::npos || part.find('@') < eq)) {
      *bare = part;
    } else if (eq != std::string::npos) {
      out[part.substr(0, eq)] = part.substr(eq + 1);
    } else if (!part.empty()) {
      out[part] = "";
    }
    first = false;
    start = end + 1;
  }
  return out;
}

// Builds a create/edit body from FIELDS options starting at argv[i].
// Returns an exit code on a usage error.
// The likely duplicates a refused creation names, one line each (stderr).
void PrintDuplicates(const json::value& answer) {
  const auto* list = answer.is_object() ? answer.as_object().if_contains("candidates") : nullptr;
  if (list == nullptr || !list->is_array()) return;
  for (const auto& d : list->as_array()) {
    const auto& c = d.as_object().at("customer");
    std::string reasons;
    for (const auto& r : d.as_object().at("reasons").as_array()) {
      reasons += (reasons.empty() ? "" : ", ") + std::string(r.as_string());
    }
    std::fprintf(stderr, "  %s  %s  (%s)\n", Str(c, "account").c_str(), Str(c, "name").c_str(), reasons.c_str());
  }
  std::fprintf(stderr, "kassactl: add --confirm-duplicates to create the customer anyway\n");
}

std::optional<int> ParseFields(int argc, char** argv, int i, json::object& body, std::optional<long>* version) {
  std::map<std::string, const char*> scalars = {
      {"--type", "type"}, {"--first-name", "first_name"}, {"--last-name", "last_name"},
      {"--org-name", "organization_name"}, {"--email", "email"}, {"--phone", "phone"},
      {"--group", "customer_group"}, {"--receipt-preference", "receipt_preference"},
      {"--receipt-email", "receipt_email"}, {"--currency", "currency"}, {"--language", "language"}};
  for (; i < argc; ++i) {
    const std::string opt = argv[i];
    if (i + 1 >= argc) return Usage(opt + " needs a value (or is unknown)");
    const std::string value = argv[++i];
    if (auto it = scalars.find(opt); it != scalars.end()) {
      body[it->second] = value;
    } else if (opt == "--secondary-email" || opt == "--secondary-phone") {
      const char* key = opt == "--secondary-email" ? "secondary_emails" : "secondary_phones";
      std::string bare;
      auto kv = KeyValues(value, &bare);
      bool consent = false;
      for (const auto& [k, v] : kv) {
        if (k != "consent") return Usage(opt + ": unknown part '" + k + "' (use VALUE;consent=yes|no)");
        if (v != "yes" && v != "no") return Usage(opt + ": consent must be yes or no");
        consent = v == "yes";
      }
      if (!body.contains(key)) body[key] = json::array();
      body[key].as_array().push_back(json::object{{"value", bare}, {"consent", consent}});
    } else if (opt == "--address") {
      static const std::map<std::string, const char*> parts = {
          {"street", "street"}, {"city", "city"}, {"postal", "postal_code"}, {"region", "region"},
          {"country", "country"}, {"purpose", "purpose"}, {"contact", "contact_name"},
          {"contact-phone", "contact_phone"}};
      json::object address;
      for (const auto& [k, v] : KeyValues(value, nullptr)) {
        const auto p = parts.find(k);
        if (p == parts.end()) return Usage("--address: unknown part '" + k + "'");
        address[p->second] = v;
      }
      if (!body.contains("addresses")) body["addresses"] = json::array();
      body["addresses"].as_array().push_back(std::move(address));
    } else if (opt == "--affiliation" || opt == "--loyalty-card") {
      const char* key = opt == "--affiliation" ? "affiliations" : "loyalty_cards";
      if (!body.contains(key)) body[key] = json::array();
      body[key].as_array().emplace_back(value);
    } else if (opt == "--attribute") {
      const auto eq = value.find('=');
      if (eq == std::string::npos) return Usage("--attribute takes NAME=VALUE");
      if (!body.contains("attributes")) body["attributes"] = json::array();
      body["attributes"].as_array().push_back(json::object{{"name", value.substr(0, eq)}, {"value", value.substr(eq + 1)}});
    } else if (opt == "--version" && version != nullptr) {
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || n < 1) return Usage("--version takes a positive number");
      *version = n;
    } else {
      return Usage("unknown option " + opt);
    }
  }
  return std::nullopt;
}

int CustomerCommand(const Globals& g, int argc, char** argv, int i) {
  if (i >= argc) return Usage("customer needs a subcommand: add, show, edit or search");
  const std::string sub = argv[i++];
  json::value out;
  if (sub == "add") {
    // --confirm-duplicates (a flag, anywhere among the fields): create even
    // when kassad finds likely duplicates.
    std::vector<char*> args(argv, argv + argc);
    const auto flag = std::find_if(args.begin() + i, args.end(),
                                   [](const char* a) { return std::string_view(a) == "--confirm-duplicates"; });
    const bool confirm = flag != args.end();
    if (confirm) args.erase(flag);
    json::object body;
    if (auto rc = ParseFields(static_cast<int>(args.size()), args.data(), i, body, nullptr)) return *rc;
    const std::string path = confirm ? "/v1/customers?confirm_duplicates=true" : "/v1/customers";
    if (auto rc = Call(g, "POST", path, json::serialize(body), out)) {
      if (!g.json) PrintDuplicates(out);
      return *rc;
    }
    return Print(g, out, PrintCustomer);
  }
  if (sub == "show") {
    if (i + 1 != argc) return Usage("customer show takes exactly one REF");
    if (auto rc = Call(g, "GET", "/v1/customers/" + kassa::ctl::UrlEncode(argv[i]), "", out)) return *rc;
    return Print(g, out, PrintCustomer);
  }
  if (sub == "edit") {
    if (i >= argc) return Usage("customer edit needs a REF");
    const std::string ref = kassa::ctl::UrlEncode(argv[i++]);
    json::object body;
    std::optional<long> version;
    if (auto rc = ParseFields(argc, argv, i, body, &version)) return *rc;
    if (!version) {
      json::value current;
      if (auto rc = Call(g, "GET", "/v1/customers/" + ref, "", current)) return *rc;
      version = current.as_object().at("version").to_number<long>();
    }
    body["version"] = *version;
    if (auto rc = Call(g, "PATCH", "/v1/customers/" + ref, json::serialize(body), out)) return *rc;
    return Print(g, out, PrintCustomer);
  }
  if (sub == "search") {
    if (i >= argc) return Usage("customer search needs TEXT");
    const std::string text = argv[i++];
    std::string limit;
    bool chain = false;
    for (; i < argc; ++i) {
      if (std::string(argv[i]) == "--limit" && i + 1 < argc) limit = argv[++i];
      else if (std::string(argv[i]) == "--chain") chain = true;
      else return Usage(std::string("unknown option ") + argv[i]);
    }
    std::string path = "/v1/customers?q=" + kassa::ctl::UrlEncode(text);
    if (!limit.empty()) path += "&limit=" + kassa::ctl::UrlEncode(limit);
    if (chain) path += "&scope=chain";
    if (auto rc = Call(g, "GET", path, "", out)) return *rc;
    return Print(g, out, [](const json::value& v) {
      const auto& results = v.as_object().at("results").as_array();
      if (results.empty()) std::printf("no customers found\n");
      for (const auto& r : results) {
        const auto& c = r.as_object().at("customer");
        std::printf("%-14s %-32s %-26s %s\n", Str(c, "account").c_str(), Str(c, "name").c_str(),
                    Str(c, "phone").empty() ? Str(c, "email").c_str() : Str(c, "phone").c_str(),
                    Str(r, "matched").empty() ? "(headquarters)" : ("matched " + Str(r, "matched")).c_str());
      }
    });
  }
  return Usage("unknown customer subcommand " + sub);
}

int SyncCommand(const Globals& g, bool now) {
  json::value out;
  if (auto rc = Call(g, now ? "POST" : "GET", "/v1/sync", "", out)) return *rc;
  if (now && !g.json) std::printf("sync requested\n");
  return Print(g, out, [](const json::value& v) {
    const auto& hq = v.as_object().at("headquarters");
    if (hq.is_null()) {
      std::printf("headquarters: not configured (kassad runs without --hq)\n");
    } else {
      std::printf("headquarters %s: %s", Str(hq, "address").c_str(),
                  hq.as_object().at("online").as_bool() ? "online" : "offline");
      if (hq.as_object().at("online").as_bool()) std::printf(" since %s", Str(hq, "online_since").c_str());
      else if (!Str(hq, "last_failure").empty()) std::printf(" (%s)", Str(hq, "last_failure").c_str());
      std::printf("\n");
    }
    std::printf("creation mode: %s (configured %s, offline creation %s)\n", Str(v, "effective_mode").c_str(),
                Str(v, "configured_mode").c_str(),
                v.as_object().at("allow_offline_creation").as_bool() ? "allowed" : "forbidden");
    const auto& outbox = v.as_object().at("outbox");
    std::printf("outbox: %s operation(s) waiting", Str(outbox, "length").c_str());
    if (!v.as_object().at("oldest_pending_age_ms").is_null()) {
      std::printf(", oldest %s ms old", Str(v, "oldest_pending_age_ms").c_str());
    }
    std::printf("; %s customer(s) pending sync; %s quarantined; %s access audit event(s) to send\n",
                Str(v, "pending_customers").c_str(), Str(v, "quarantined").c_str(),
                Str(v, "access_events_queued").c_str());
    const auto& last = v.as_object().at("last_ack_at");
    std::printf("last acknowledgement: %s; distribution cursor %s\n", last.is_null() ? "never" : Str(v, "last_ack_at").c_str(),
                Str(v, "distribution_cursor").c_str());
  });
}

// `g` with kassa-hq's admin token instead of an operator's session.
Globals AsAdmin(const Globals& g) {
  Globals admin = g;
  admin.token = LoadAdminToken();
  return admin;
}

int HqAudit(const Globals& g) {
  json::value out;
  if (auto rc = Call(AsAdmin(g), "GET", "/v1/audit", "", out)) return *rc;
  return Print(g, out, [](const json::value& v) {
    for (const auto& e : v.as_object().at("audit").as_array()) {
      std::printf("%-24s %-20s %s\n", Str(e, "at").c_str(), Str(e, "who").c_str(), Str(e, "what").c_str());
    }
  });
}

// Every page of headquarters' likely duplicates, printed as one list.
int HqDuplicates(const Globals& g) {
  json::array pairs;
  std::string after;
  std::size_t scanned = 0;
  for (;;) {
    json::value page;
    if (auto rc = Call(AsAdmin(g), "GET", "/v1/duplicates?scan=2000&after=" + after, "", page)) return *rc;
    for (auto& p : page.as_object().at("pairs").as_array()) pairs.push_back(p);
    scanned += static_cast<std::size_t>(page.as_object().at("scanned").to_number<std::int64_t>());
    const json::value& next = page.as_object().at("next");
    if (next.is_null()) break;
    after = std::string(next.as_string());
  }
  json::value all = json::object{{"pairs", std::move(pairs)}, {"scanned", scanned}};
  return Print(g, all, [](const json::value& v) {
    const auto& list = v.as_object().at("pairs").as_array();
    for (const auto& p : list) {
      const auto& c = p.as_object().at("customers").as_array();
      std::string reasons;
      for (const auto& r : p.as_object().at("reasons").as_array()) {
        reasons += (reasons.empty() ? "" : ",") + std::string(r.as_string());
      }
      std::printf("%s: %s %s ~ %s %s: %s\n", Str(p, "legal_entity").c_str(), Str(c[0], "account").c_str(),
                  Str(c[0], "name").c_str(), Str(c[1], "account").c_str(), Str(c[1], "name").c_str(), reasons.c_str());
    }
    std::printf("%zu pair(s) among %s customers\n", list.size(), Str(v, "scanned").c_str());
  });
}

void PrintErasure(const json::value& e) {
  const auto names = [&](const char* key) {
    std::string out;
    for (const auto& t : e.as_object().at(key).as_array()) out += (out.empty() ? "" : ",") + std::string(t.as_string());
    return out.empty() ? std::string("-") : out;
  };
  std::printf("%s  %s  %-8s by %-12s confirmed: %s  pending: %s\n", Str(e, "at").c_str(), Str(e, "customer_id").c_str(),
              Str(e, "legal_entity").c_str(), Str(e, "by").c_str(), names("confirmed_by").c_str(), names("pending").c_str());
}

int HqErase(const Globals& g, int argc, char** argv, int i) {
  if (i >= argc) return Usage("hq erase needs the customer's account number or id");
  const std::string who = argv[i++];
  std::string path = "/v1/customers/" + Encode(who);
  if (i + 1 < argc && std::string(argv[i]) == "--legal-entity") {
    path += "?legal_entity=" + Encode(argv[i + 1]);
    i += 2;
  }
  if (i != argc) return Usage("hq erase takes ACCOUNT|ID [--legal-entity LE]");
  json::value out;
  if (auto rc = Call(AsAdmin(g), "DELETE", path, "", out)) return *rc;
  return Print(g, out, [](const json::value& v) {
    std::printf("erased; sent to the terminals of its legal entity\n");
    PrintErasure(v);
  });
}

void PrintWipe(const json::value& w) {
  const json::value& confirmed = w.as_object().at("confirmed_at");
  std::printf("%-20s ordered %s by %-12s %s\n", Str(w, "terminal_id").c_str(), Str(w, "ordered_at").c_str(),
              Str(w, "ordered_by").c_str(),
              confirmed.is_null() ? "NOT CONFIRMED YET"
                                  : ("confirmed " + std::string(confirmed.as_string()) + ", certificate " +
                                     (w.as_object().at("certificate_revoked").is_null()
                                          ? std::string("(none: plaintext link)")
                                          : std::string(w.as_object().at("certificate_revoked").as_string())) +
                                     " revoked").c_str());
}

int HqErasures(const Globals& g) {
  json::value out;
  if (auto rc = Call(AsAdmin(g), "GET", "/v1/erasures", "", out)) return *rc;
  return Print(g, out, [](const json::value& v) {
    for (const auto& e : v.as_object().at("erasures").as_array()) PrintErasure(e);
  });
}

// An admin call whose answer is shown as JSON as it is.
int HqJson(const Globals& g, const char* method, const std::string& path) {
  json::value out;
  if (auto rc = Call(AsAdmin(g), method, path, "", out)) return *rc;
  std::printf("%s\n", json::serialize(out).c_str());
  return kOk;
}

// A status's "warnings" (configuration that is valid but risky), one line each.
void PrintWarnings(const json::value& status) {
  const auto* w = status.as_object().if_contains("warnings");
  if (w == nullptr || !w->is_array()) return;
  for (const auto& warning : w->as_array()) {
    if (warning.is_string()) std::printf("warning: %s\n", std::string(warning.as_string()).c_str());
  }
}

int HqStatus(const Globals& g) {
  json::value out;
  if (auto rc = Call(AsAdmin(g), "GET", "/v1/status", "", out)) return *rc;
  if (!out.is_object() || !out.as_object().contains("head_cursor")) {
    std::fprintf(stderr, "kassactl: %s is not kassa-hq's admin API\n", g.url.host.c_str());
    return kFailed;
  }
  return Print(g, out, [](const json::value& v) {
    std::printf("customers: %s, change log at %s, operations applied %s, rejected %s\n", Str(v, "customers").c_str(),
                Str(v, "head_cursor").c_str(), Str(v, "operations_applied").c_str(), Str(v, "rejections").c_str());
    std::printf("%-16s %-12s %-9s %8s %6s %8s %8s  %s\n", "terminal", "store", "link", "cursor", "lag", "applied",
                "rejected", "last seen");
    for (const auto& t : v.as_object().at("terminals").as_array()) {
      std::printf("%-16s %-12s %-9s %8s %6s %8s %8s  %s\n", Str(t, "terminal_id").c_str(), Str(t, "store_id").c_str(),
                  t.as_object().at("connected").as_bool() ? "online" : "offline", Str(t, "cursor").c_str(),
                  Str(t, "lag").c_str(), Str(t, "operations_applied").c_str(), Str(t, "rejections").c_str(),
                  Str(t, "last_seen").c_str());
    }
    PrintWarnings(v);
  });
}

int Main(int argc, char** argv) {
  Globals g;
  const char* env_url = std::getenv("KASSA_URL");
  std::string url = env_url != nullptr && *env_url != '\0' ? env_url : "http://127.0.0.1:8080";
  g.token = LoadSessionToken();
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsageText, stdout);
      return kOk;
    } else if (arg == "--version") {
      std::printf("%s\n", kassa::VersionLine("kassactl").c_str());
      return kOk;
    } else if (arg == "--json") {
      g.json = true;
    } else if (arg == "--url" && i + 1 < argc) {
      url = argv[++i];
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage("unknown option " + arg);
    } else {
      break;
    }
  }
  auto parsed = kassa::ctl::ParseUrl(url);
  if (!parsed) return Usage("--url must look like http://127.0.0.1:8080");
  g.url = *parsed;
  if (i >= argc) return Usage("a command is required");
  const std::string command = argv[i++];
  json::value out;
  if (command == "customer") return CustomerCommand(g, argc, argv, i);
  if (command == "login") return LoginCommand(g, argc, argv, i);
  if (command == "logout") return LogoutCommand(g, argc, i);
  if (command == "clientbook") return ClientbookCommand(g, argc, argv, i);
  if (command == "card") return CardCommand(g, argc, argv, i);
  if (command == "activity") return ActivityCommand(g, argc, argv, i);
  if (command == "note") return NoteCommand(g, argc, argv, i);
  if (command == "sync" || command == "hq") {
    if (i >= argc) return Usage(command + " needs a subcommand");
    const std::string sub = argv[i++];
    if (command == "hq" && sub == "erase") return HqErase(g, argc, argv, i);
    if (command == "hq" && sub == "wipe") {
      if (i + 1 != argc) return Usage("hq wipe takes the terminal's id");
      if (auto rc = Call(AsAdmin(g), "POST", "/v1/terminals/" + Encode(argv[i]) + "/wipe", "", out)) return *rc;
      return Print(g, out, [](const json::value& v) {
        std::printf("ordered; the terminal wipes on its next connection\n");
        PrintWipe(v);
      });
    }
    if (command == "hq" && sub == "access") {
      if (i + 1 != argc) return Usage("hq access takes the customer's account number or id");
      if (auto rc = Call(AsAdmin(g), "GET", "/v1/customers/" + Encode(argv[i]) + "/access", "", out)) return *rc;
      return Print(g, out, [](const json::value& v) {
        std::printf("customer %s\n", Str(v, "customer_id").c_str());
        for (const auto& e : v.as_object().at("access").as_array()) {
          const json::value& terminal = e.as_object().at("terminal");
          std::printf("%s  %-9s by %-24s at %s\n", Str(e, "at").c_str(), Str(e, "action").c_str(), Str(e, "by").c_str(),
                      terminal.is_null() ? "headquarters" : std::string(terminal.as_string()).c_str());
        }
      });
    }
    if (command == "hq" && sub == "export") {
      if (i + 1 != argc) return Usage("hq export takes the customer's account number");
      return HqJson(g, "GET", "/v1/customers/" + Encode(argv[i]) + "/export");
    }
    if (i != argc) return Usage(command + " " + sub + " takes no arguments");
    if (command == "hq" && sub == "status") return HqStatus(g);
    if (command == "hq" && sub == "audit") return HqAudit(g);
    if (command == "hq" && sub == "duplicates") return HqDuplicates(g);
    if (command == "hq" && sub == "erasures") return HqErasures(g);
    if (command == "hq" && sub == "wipes") {
      if (auto rc = Call(AsAdmin(g), "GET", "/v1/wipes", "", out)) return *rc;
      return Print(g, out, [](const json::value& v) {
        for (const auto& w : v.as_object().at("wipes").as_array()) PrintWipe(w);
      });
    }
    if (command == "hq" && sub == "keys") return HqJson(g, "GET", "/v1/keys");
    if (command == "hq" && sub == "rotate-key") return HqJson(g, "POST", "/v1/keys/rotate");
    if (command == "hq" && sub == "retention") return HqJson(g, "POST", "/v1/retention/run");
    if (command == "sync" && (sub == "status" || sub == "now")) return SyncCommand(g, sub == "now");
    return Usage("unknown subcommand " + command + " " + sub);
  }
  if (i != argc) return Usage(command + " takes no arguments");
  if (command == "outbox") {
    if (auto rc = Call(g, "GET", "/v1/outbox", "", out)) return *rc;
    return Print(g, out, [](const json::value& v) {
      std::printf("outbox: %s operation(s) waiting\n", Str(v, "length").c_str());
      const auto& oldest = v.as_object().at("oldest");
      if (!oldest.is_null()) {
        std::printf("oldest: #%s %s of customer %s, queued %s (%s s ago)\n", Str(oldest, "seq").c_str(),
                    Str(oldest, "kind").c_str(), Str(oldest, "customer_id").c_str(),
                    Str(oldest, "enqueued_at").c_str(), Str(oldest, "age_seconds").c_str());
      }
    });
  }
  if (command == "status") {
    if (auto rc = Call(g, "GET", "/v1/status", "", out)) return *rc;
    return Print(g, out, [](const json::value& v) {
      std::printf("terminal %s, store %s, creation mode %s, headquarters %s\n", Str(v, "terminal_id").c_str(),
                  Str(v, "store_id").c_str(), Str(v, "creation_mode").c_str(), Str(v, "headquarters").c_str());
      std::printf("customers: %s (%s pending sync), outbox: %s\n", Str(v, "customers").c_str(),
                  Str(v, "pending_customers").c_str(), Str(v.as_object().at("outbox"), "length").c_str());
      const auto& s = v.as_object().at("storage");
      std::printf("storage: %s of %s bytes used\n", Str(s, "used_bytes").c_str(), Str(s, "map_size_bytes").c_str());
      PrintWarnings(v);
    });
  }
  if (command == "quarantine" && i < argc && std::string(argv[i]) == "resend") {
    ++i;
    if (i >= argc) return Usage("quarantine resend needs the SEQ of a rejected creation or edit");
    const std::string seq = kassa::ctl::UrlEncode(argv[i++]);
    json::object body;
    if (auto rc = ParseFields(argc, argv, i, body, nullptr)) return *rc;
    if (auto rc = Call(g, "POST", "/v1/quarantine/" + seq + "/resend", json::serialize(body), out)) return *rc;
    return Print(g, out, PrintCustomer);
  }
  if (command == "quarantine" && i < argc && std::string(argv[i]) == "discard") {
    ++i;
    if (i >= argc) return Usage("quarantine discard needs the SEQ of a rejected operation");
    const std::string seq = kassa::ctl::UrlEncode(argv[i++]);
    if (i < argc) return Usage("quarantine discard takes only the SEQ");
    if (auto rc = Call(g, "POST", "/v1/quarantine/" + seq + "/discard", "{}", out)) return *rc;
    return Print(g, out, [](const json::value& v) { std::printf("discarded #%s\n", Str(v, "discarded").c_str()); });
  }
  if (command == "quarantine") {
    if (auto rc = Call(g, "GET", "/v1/quarantine", "", out)) return *rc;
    return Print(g, out, [](const json::value& v) {
      const auto& entries = v.as_object().at("quarantined").as_array();
      if (entries.empty()) std::printf("no quarantined operations\n");
      for (const auto& e : entries) {
        const auto& op = e.as_object().at("operation");
        std::printf("#%s %s of customer %s, rejected %s: %s\n", Str(e, "seq").c_str(), Str(op, "kind").c_str(),
                    Str(op, "customer_id").c_str(), Str(e, "rejected_at").c_str(), Str(e, "reason").c_str());
      }
    });
  }
  if (command == "doctor") {
    if (auto rc = Call(g, "GET", "/v1/doctor", "", out)) return *rc;
    const bool ok = out.as_object().at("ok").as_bool();
    Print(g, out, [](const json::value& v) {
      std::printf("%s: %s customers, %s index entries, %s outbox entries, %s quarantined\n",
                  v.as_object().at("ok").as_bool() ? "ok" : "PROBLEMS", Str(v, "customers").c_str(),
                  Str(v, "index_entries").c_str(), Str(v, "outbox_entries").c_str(), Str(v, "quarantined").c_str());
      for (const auto& p : v.as_object().at("problems").as_array()) std::printf("  - %s\n", std::string(p.as_string()).c_str());
    });
    return ok ? kOk : kFailed;
  }
  return Usage("unknown command " + command);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kassactl: unexpected answer from kassad: %s\n", e.what());
    return kFailed;
  }
}
