import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request the HTTP/1.1 parser refuses — an unknown method, a request line or header section over the
/// limit, a bad `Content-Length` — with `application/problem+json` and Trail's security headers, then closes the
/// connection (a request that cannot be parsed leaves nothing to read the next one from). Without it, such a
/// request gets Hummingbird's empty `400`.
///
/// It sits in each connection's pipeline after the HTTP codec. An error while a request is being answered (a
/// malformed chunk of its body) belongs to that request and is passed on to the application.
final class ProtocolErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Requests read whose response has not ended.
    private var open = 0
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { open += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { open -= 1 }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, open == 0, !answered else {
            context.fireErrorCaught(error)
            return
        }
        answered = true
        // The error is not passed on, or Hummingbird would answer it again.
        context.answerAndClose(Self.problem(for: parserError))
    }

    static func problem(for error: HTTPParserError) -> Problem {
        switch error {
        case .invalidMethod:
            Problem(.notImplemented, "unknown-method", title: "Unknown method",
                    detail: "Trail does not know this request's method; its API takes GET, HEAD, POST, DELETE and OPTIONS.")
        case .headerOverflow:
            Problem(.requestHeaderFieldsTooLarge, "request-head-too-large", title: "Request head too large",
                    detail: "The request's URL or header fields are longer than Trail accepts (80 KB); shorten them.")
        case .invalidContentLength, .unexpectedContentLength:
            Problem(.badRequest, "bad-content-length", title: "Bad Content-Length",
                    detail: "The request's Content-Length is not a single whole number, or contradicts its Transfer-Encoding.")
        default:
            Problem(.badRequest, "malformed-http", title: "Malformed HTTP request",
                    detail: "The request is not valid HTTP/1.1 (\(error)); the connection is closed.")
        }
    }
}
