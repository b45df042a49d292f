import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Bounds how long a connection may take to send a request, so that a client trickling bytes (a slow-loris) cannot
/// hold a connection, and the memory its buffers pin, for ever.
///
/// Two deadlines, each ``ServerConfiguration/requestTimeout`` long:
/// - **head**: from when the connection opens, or its last response ends, until a request's head has arrived.
///   This also closes keep-alive connections idle that long.
/// - **body**: from a request's head until its body has fully arrived.
///
/// A connection that misses one is answered `408 Request Timeout` in `application/problem+json` and closed — unless
/// there is no one to tell: an idle connection that sent no byte of a next request, or a request already answered
/// (an early `413`) whose body never ended, is just closed. Nothing bounds how long
/// Trail takes to answer (an export may stream for minutes): the deadlines count only time spent waiting for the
/// client.
///
/// It sits in each connection's pipeline right after the HTTP codec, before ``ProtocolErrorHandler``.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: Duration
    private let timeoutAmount: TimeAmount
    private var deadline: Scheduled<Void>?
    /// Requests whose head arrived and whose response has not ended.
    private var unanswered = 0
    /// A request's body is arriving.
    private var readingBody = false
    /// The response being written has begun (its head was written).
    private var responding = false
    private var closed = false
    /// Notes bytes arriving before the HTTP codec: whether a client waited for has begun a request.
    private let arrivals = ByteArrivals()

    init(timeout: Duration) {
        self.timeout = timeout
        timeoutAmount = .nanoseconds(Int64(timeout / .nanoseconds(1)))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(arrivals, position: .first)
        if context.channel.isActive { awaitHead(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if deadline == nil { awaitHead(context: context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        closed = true
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            readingBody = true
            schedule(context: context, waitingFor: .body)
        case .body:
            break
        case .end:
            readingBody = false
            cancel()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response) where response.status.kind != .informational:
            responding = true
        case .head, .body:
            break
        case .end:
            responding = false
            unanswered = max(0, unanswered - 1)
            if unanswered == 0 && !readingBody { awaitHead(context: context) }
        }
        context.write(data, promise: promise)
    }

    private enum Wait { case head, body }

    private func awaitHead(context: ChannelHandlerContext) {
        arrivals.arrived = false
        schedule(context: context, waitingFor: .head)
    }

    private func schedule(context: ChannelHandlerContext, waitingFor wait: Wait) {
        cancel()
        guard !closed else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeoutAmount) {
            let (handler, context) = bound.value
            handler.expire(context: context, waitingFor: wait)
        }
    }

    private func cancel() {
        deadline?.cancel()
        deadline = nil
    }

    private func expire(context: ChannelHandlerContext, waitingFor wait: Wait) {
        deadline = nil
        guard !closed else { return }
        closed = true
        // A request still waiting for its answer, with none begun, is told why; otherwise there is no one to tell
        // (an answered request whose body never ended) or the answer under way cannot be replaced.
        let mayAnswer = wait == .head ? arrivals.arrived && unanswered == 0 : (unanswered > 0 && !responding)
        guard mayAnswer else {
            context.close(promise: nil)
            return
        }
        let seconds = (timeout / .seconds(1)).formatted(.number.grouping(.never))
        let what = wait == .head ? "a request's head (its request line and header fields)" : "the request's body"
        context.answerAndClose(Problem(
            .requestTimeout, "request-timeout", title: "Request timeout",
            detail: "Trail waited \(seconds) seconds for \(what) and did not get it all; the connection is closed."))
    }
}

/// Remembers whether any byte arrived since it was last reset; first in the pipeline, before the HTTP decoder.
private final class ByteArrivals: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    var arrived = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arrived = true
        context.fireChannelRead(data)
    }
}

extension ChannelHandlerContext {
    /// Writes `problem` as a whole response with Trail's security headers and `Connection: close`, then closes the
    /// connection once it is sent: for answers given by a channel handler, outside Hummingbird's router.
    func answerAndClose(_ problem: Problem) {
        let body = problem.body
        var fields = SecurityHeadersMiddleware<TrailRequestContext>.fields
        fields[.cacheControl] = "no-store"
        fields[.contentType] = "application/problem+json"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        fields[.requestID] = RequestIDMiddleware.make()
        write(NIOAny(HTTPResponsePart.head(HTTPResponse(status: problem.status, headerFields: fields))), promise: nil)
        write(NIOAny(HTTPResponsePart.body(ByteBuffer(bytes: body))), promise: nil)
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        writeAndFlush(NIOAny(HTTPResponsePart.end(nil))).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }
}
