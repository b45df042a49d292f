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
///
/// The deadline moves with every request but no timer is set for each: one timer per connection wakes at the
/// deadline it was set for, and if the deadline has moved on meanwhile (the usual case: requests came), it is
/// set again for the new one. A request costs a clock read, not a timer scheduled and cancelled twice.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: Duration
    private let timeoutAmount: TimeAmount
    /// The connection's one timer, while it is set.
    private var timer: Scheduled<Void>?
    /// What the connection waits for now and until when; nil while it waits for nothing (Trail is answering).
    private var deadline: (at: NIODeadline, waitingFor: Wait)?
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
        if timer == nil { awaitHead(context: context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        closed = true
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimer()
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
        guard !closed else { return }
        deadline = (.now() + timeoutAmount, wait)
        if timer == nil { setTimer(context: context) }
    }

    private func cancel() {
        deadline = nil
    }

    /// Sets the timer for the deadline now in force.
    private func setTimer(context: ChannelHandlerContext) {
        guard let at = deadline?.at else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: at) {
            let (handler, context) = bound.value
            handler.timerFired(context: context)
        }
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
        deadline = nil
    }

    /// The timer woke: the connection missed its deadline, or the deadline moved on (the timer is set for it).
    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        guard !closed, let (at, wait) = deadline else { return }
        guard at <= .now() else { return setTimer(context: context) }
        expire(context: context, waitingFor: wait)
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
