#pragma once

// Maps API requests to the customer service and store. Synchronous: one
// request in, one response out.

#include <boost/beast/http.hpp>

#include "kassa/customers/customer_service.h"
#include "kassa/hal/clock.h"
#include "kassa/storage/customer_store.h"

namespace kassa::api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

class Router {
 public:
  Router(customers::CustomerService& customers, storage::CustomerStore& store, hal::Clock& clock)
      : customers_(customers), store_(store), clock_(clock) {}

  Response Handle(const Request& request);

 private:
  customers::CustomerService& customers_;
  storage::CustomerStore& store_;
  hal::Clock& clock_;
};

// A JSON response with `status` and the API's headers.
Response JsonResponse(unsigned status, const std::string& body, unsigned version, bool keep_alive);

}  // namespace kassa::api
