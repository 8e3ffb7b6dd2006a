#include "kassa/hq/chain_config.h"

#include <algorithm>
#include <set>

#include "kassa/config/clienteling_json.h"
#include "kassa/model/limits.h"

namespace kassa::hq {
namespace json = boost::json;

namespace {

bool IsPrefixChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

Status ParseGroup(const json::value& v, const std::string& where, ChainGroup& g, std::string& field) {
  if (!v.is_object()) return InvalidAt(field, where, "must be an object");
  const json::object& o = v.get_object();
  KASSA_TRY(config::CheckMembers(o, {"id", "name", "financial_dimensions"}, where + ".", field));
  KASSA_TRY(config::ReadString(o, "id", where + ".", g.id, true, field));
  KASSA_TRY(config::ReadString(o, "name", where + ".", g.name, false, field));
  if (const json::value* dims = o.if_contains("financial_dimensions")) {
    if (!dims->is_object()) return InvalidAt(field, where + ".financial_dimensions", "must be an object of name: value");
    for (const auto& [name, value] : dims->get_object()) {
      if (!value.is_string()) return InvalidAt(field, where + ".financial_dimensions." + std::string(name), "must be a string");
      if (name.empty() || name.size() > model::kMaxAttributeNameBytes) {
        return InvalidAt(field, where + ".financial_dimensions", "names are 1 to 32 bytes");
      }
      if (value.get_string().size() > model::kMaxAttributeValueBytes) {
        return InvalidAt(field, where + ".financial_dimensions." + std::string(name), "longer than 100 bytes");
      }
      g.financial_dimensions.push_back({std::string(name), std::string(value.get_string())});
    }
    if (g.financial_dimensions.size() > model::kMaxFinancialDimensions) {
      return InvalidAt(field, where + ".financial_dimensions", "at most 4");
    }
  }
  return Status::Ok();
}

Status ParseLegalEntity(const json::value& v, const std::string& where, LegalEntity& le, std::string& field) {
  if (!v.is_object()) return InvalidAt(field, where, "must be an object");
  const json::object& o = v.get_object();
  KASSA_TRY(config::CheckMembers(o, {"id", "customer_groups", "stores", "clienteling", "operators"}, where + ".", field));
  KASSA_TRY(config::ReadString(o, "id", where + ".", le.id, true, field));
  const json::value* groups = o.if_contains("customer_groups");
  if (groups == nullptr || !groups->is_array()) return InvalidAt(field, where + ".customer_groups", "required, an array");
  json::array store_groups;
  for (std::size_t i = 0; i < groups->get_array().size(); ++i) {
    ChainGroup g;
    KASSA_TRY(ParseGroup(groups->get_array()[i], where + ".customer_groups[" + std::to_string(i) + "]", g, field));
    store_groups.push_back(json::object{{"id", g.id}, {"name", g.name}});
    le.customer_groups.push_back(std::move(g));
  }
  const json::value* stores = o.if_contains("stores");
  if (stores == nullptr || !stores->is_array()) return InvalidAt(field, where + ".stores", "required, an array");
  for (std::size_t i = 0; i < stores->get_array().size(); ++i) {
    const std::string at = where + ".stores[" + std::to_string(i) + "]";
    const json::value& s = stores->get_array()[i];
    if (!s.is_object()) return InvalidAt(field, at, "must be an object");
    // A store inherits its legal entity and that entity's customer groups.
    json::object full = s.get_object();
    if (full.contains("legal_entity") || full.contains("customer_groups")) {
      return InvalidAt(field, at, "legal_entity and customer_groups come from the legal entity");
    }
    full["legal_entity"] = le.id;
    full["customer_groups"] = store_groups;
    model::StoreConfig store;
    if (const Status e = config::ParseStoreConfig(full, store, field); !e.ok()) {
      field = field.empty() ? at : at + "." + field;
      return e;
    }
    le.stores.push_back(std::move(store));
  }
  le.clienteling.legal_entity = le.id;
  if (const json::value* c = o.if_contains("clienteling")) {
    KASSA_TRY(config::ParseClienteling(*c, le.id, where + ".clienteling", le.clienteling, field));
  }
  if (const json::value* ops = o.if_contains("operators")) {
    KASSA_TRY(config::ParseOperators(*ops, le.id, where + ".operators", le.operators, field));
    for (std::size_t i = 0; i < le.operators.size(); ++i) {
      const model::Operator& op = le.operators[i];
      const std::string at = where + ".operators[" + std::to_string(i) + "]";
      if (le.clienteling.FindRole(op.role) == nullptr) return InvalidAt(field, at + ".role", "not a role of clienteling.roles");
      for (const auto& st : op.stores) {
        const bool known = std::any_of(le.stores.begin(), le.stores.end(), [&](const auto& x) { return x.store_id == st; });
        if (!known) return InvalidAt(field, at + ".stores", "names a store not of this legal entity");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::optional<std::string> AccountFormat::Format(std::uint64_t n) const {
  std::string digits_text = std::to_string(n);
  if (digits_text.size() > static_cast<std::size_t>(digits)) return std::nullopt;
  return prefix + std::string(static_cast<std::size_t>(digits) - digits_text.size(), '0') + digits_text;
}

const model::StoreConfig* ChainConfig::FindStore(std::string_view store_id) const {
  for (const auto& le : legal_entities) {
    for (const auto& s : le.stores) {
      if (s.store_id == store_id) return &s;
    }
  }
  return nullptr;
}

const model::Operator* LegalEntity::FindOperator(std::string_view worker_id) const {
  for (const auto& op : operators) {
    if (op.worker_id == worker_id) return &op;
  }
  return nullptr;
}

const LegalEntity* ChainConfig::FindLegalEntity(std::string_view id) const {
  for (const auto& le : legal_entities) {
    if (le.id == id) return &le;
  }
  return nullptr;
}

std::vector<model::AttributeValue> ChainConfig::DimensionsOf(std::string_view legal_entity,
                                                             std::string_view group_id) const {
  if (const LegalEntity* le = FindLegalEntity(legal_entity)) {
    for (const auto& g : le->customer_groups) {
      if (g.id == group_id) return g.financial_dimensions;
    }
  }
  return {};
}

std::vector<std::string> ChainConfig::Warnings() const {
  std::vector<std::string> out;
  for (const auto& le : legal_entities) {
    for (const auto& s : le.stores) {
      for (std::string& w : model::StoreConfigWarnings(s)) out.push_back(std::move(w));
    }
  }
  return out;
}

Status ParseChainConfig(const json::value& root, ChainConfig& out, std::string& field) {
  field.clear();
  if (!root.is_object()) return InvalidAt(field, "", "must hold a JSON object");
  const json::object& o = root.get_object();
  KASSA_TRY(config::CheckMembers(o, {"account_numbers", "legal_entities", "chain_search_scope", "retention"}, "", field));
  ChainConfig c;
  std::string scope = "legal_entity";
  KASSA_TRY(config::ReadString(o, "chain_search_scope", "", scope, false, field));
  if (scope != "legal_entity" && scope != "chain") {
    return InvalidAt(field, "chain_search_scope", "\"legal_entity\" or \"chain\"");
  }
  c.chain_search_scope = scope == "chain" ? SearchScope::kChain : SearchScope::kLegalEntity;
  if (const json::value* retention = o.if_contains("retention")) {
    if (!retention->is_object()) return InvalidAt(field, "retention", "an object");
    const json::object& r = retention->get_object();
    KASSA_TRY(config::CheckMembers(r, {"inactive_customer_years", "audit_months"}, "retention.", field));
    const auto read = [&](const char* key, int max, const char* range, int& to) -> Status {
      const json::value* v = r.if_contains(key);
      if (v == nullptr) return Status::Ok();
      if (!v->is_int64() || v->get_int64() < 0 || v->get_int64() > max) {
        return InvalidAt(field, std::string("retention.") + key, range);
      }
      to = static_cast<int>(v->get_int64());
      return Status::Ok();
    };
    KASSA_TRY(read("inactive_customer_years", 100, "a whole number of years from 0 (keep forever) to 100",
                   c.retention.inactive_customer_years));
    KASSA_TRY(read("audit_months", 1200, "a whole number of months from 0 (keep forever) to 1200",
                   c.retention.audit_months));
  }
  const json::value* numbers = o.if_contains("account_numbers");
  if (numbers == nullptr || !numbers->is_object()) {
    return InvalidAt(field, "account_numbers", "required, {\"prefix\", \"digits\"}");
  }
  const json::object& n = numbers->get_object();
  KASSA_TRY(config::CheckMembers(n, {"prefix", "digits"}, "account_numbers.", field));
  KASSA_TRY(config::ReadString(n, "prefix", "account_numbers.", c.account_numbers.prefix, true, field));
  for (char ch : c.account_numbers.prefix) {
    if (!IsPrefixChar(ch)) return InvalidAt(field, "account_numbers.prefix", "only A-Z, 0-9 and -");
  }
  const json::value* digits = n.if_contains("digits");
  if (digits == nullptr || !digits->is_int64() || digits->get_int64() < 4 || digits->get_int64() > 16) {
    return InvalidAt(field, "account_numbers.digits", "required, a number from 4 to 16");
  }
  c.account_numbers.digits = static_cast<int>(digits->get_int64());
  if (c.account_numbers.prefix.size() + static_cast<std::size_t>(c.account_numbers.digits) > model::kMaxAccountBytes) {
    return InvalidAt(field, "account_numbers", "prefix and digits together exceed 20 characters");
  }
  const json::value* les = o.if_contains("legal_entities");
  if (les == nullptr || !les->is_array() || les->get_array().empty()) {
    return InvalidAt(field, "legal_entities", "required, a non-empty array");
  }
  std::set<std::string> store_ids;
  std::set<std::string> le_ids;
  for (std::size_t i = 0; i < les->get_array().size(); ++i) {
    LegalEntity le;
    const std::string where = "legal_entities[" + std::to_string(i) + "]";
    KASSA_TRY(ParseLegalEntity(les->get_array()[i], where, le, field));
    if (!le_ids.insert(le.id).second) return InvalidAt(field, where + ".id", "listed twice");
    for (const auto& s : le.stores) {
      if (!store_ids.insert(s.store_id).second) return InvalidAt(field, where + ".stores", "a store is listed twice");
    }
    c.legal_entities.push_back(std::move(le));
  }
  out = std::move(c);
  return Status::Ok();
}

json::object ChainConfigToJson(const ChainConfig& c, bool with_secrets) {
  json::array les;
  for (const auto& le : c.legal_entities) {
    json::array groups;
    for (const auto& g : le.customer_groups) {
      json::object dims;
      for (const auto& d : g.financial_dimensions) dims[d.name] = d.value;
      groups.push_back(json::object{{"id", g.id}, {"name", g.name}, {"financial_dimensions", std::move(dims)}});
    }
    json::array stores;
    for (const auto& s : le.stores) {
      json::object store = config::StoreConfigToJson(s);
      store.erase("legal_entity");
      store.erase("customer_groups");
      stores.push_back(std::move(store));
    }
    json::array operators;
    for (const auto& op : le.operators) operators.push_back(config::OperatorToJson(op, with_secrets));
    json::object entity{{"id", le.id}, {"customer_groups", std::move(groups)}, {"stores", std::move(stores)}};
    if (!le.clienteling.roles.empty()) entity["clienteling"] = config::ClientelingToJson(le.clienteling);
    if (!operators.empty()) entity["operators"] = std::move(operators);
    les.push_back(std::move(entity));
  }
  return json::object{
      {"account_numbers", json::object{{"prefix", c.account_numbers.prefix}, {"digits", c.account_numbers.digits}}},
      {"chain_search_scope", c.chain_search_scope == SearchScope::kChain ? "chain" : "legal_entity"},
      {"retention", json::object{{"inactive_customer_years", c.retention.inactive_customer_years},
                                 {"audit_months", c.retention.audit_months}}},
      {"legal_entities", std::move(les)}};
}

ChainConfig KeepOperatorSecrets(ChainConfig next, const ChainConfig& current) {
  for (auto& le : next.legal_entities) {
    const LegalEntity* before = current.FindLegalEntity(le.id);
    if (before == nullptr) continue;
    for (auto& op : le.operators) {
      const model::Operator* old = before->FindOperator(op.worker_id);
      if (old == nullptr) continue;
      if (op.pin_hash.empty()) op.pin_hash = old->pin_hash;
      if (op.badge.empty() && op.badge_hmac.empty()) op.badge_hmac = old->badge_hmac;
    }
  }
  return next;
}

ChainConfig RecordFormerStores(ChainConfig next, const ChainConfig& current) {
  for (auto& le : next.legal_entities) {
    const LegalEntity* before = current.FindLegalEntity(le.id);
    for (auto& op : le.operators) {
      const model::Operator* old = before == nullptr ? nullptr : before->FindOperator(op.worker_id);
      std::vector<std::string> former = old == nullptr ? op.former_stores : old->former_stores;
      if (old != nullptr) {
        for (const auto& s : old->stores) {
          if (!op.WorksIn(s) && std::find(former.begin(), former.end(), s) == former.end()) former.push_back(s);
        }
      }
      std::erase_if(former, [&](const std::string& s) { return op.WorksIn(s); });
      if (former.size() > model::kMaxOperatorStores) {
        former.erase(former.begin(), former.end() - static_cast<std::ptrdiff_t>(model::kMaxOperatorStores));
      }
      op.former_stores = std::move(former);
    }
  }
  return next;
}

}  // namespace kassa::hq
