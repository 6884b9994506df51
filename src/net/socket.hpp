// The TCP socket every connection runs over.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace allscene::net {

// Bound to its loop's io_context executor type, not the polymorphic
// any_io_executor: the socket is smaller, and each pending operation (an
// idle connection always has one, its read wait) carries this executor
// instead of a type-erased one with its work tracking.
using Socket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

}  // namespace allscene::net
