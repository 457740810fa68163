"""The Bolt app and the machinery around it: claim on receipt, acknowledge at once, answer
after the acknowledgement, deliver with retries.

* Every request is claimed in the database before Bolt acknowledges it (process_before_response
  mode, so the claim is on the request path): a retried event (X-Slack-Retry-Num) or a second
  press of a button finds its key taken and does nothing. The first copy to arrive is the one
  processed, so a retry whose original never arrived is not lost.
* The dialogue runs after the acknowledgement, in a worker thread, in a task this door keeps
  a reference to. Bolt's lazy listeners are not used: they are fire-and-forget and lost on a
  restart; here an unanswered request stays "pending" in the database and is picked up again
  when the door starts.
* Answers go into the one outbox first (assistant.outbox, channel "slack", in the transaction
  that finishes the request) and are sent right after; a Slack outage leaves them there, backing
  off, for the next sweep, so a confirmed booking is never left unannounced. A message Slack
  refuses for good is dead at once (`rota outbox list --dead`; `rota outbox retry ID` puts it
  back for the sweep); one the PRIV rules withhold is refused and never sent.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from assistant import callers, outbox
from assistant import slack_store as store
from assistant.dialogue import Dialogue
from clinic.db import Database
from clinic.timeutil import now_utc
from integrations.slack import privacy
from integrations.slack.answer import Answerer, is_private
from integrations.slack.api import SendFailed, SlackApi
from integrations.slack.settings import SlackSettings

log = logging.getLogger("rota.slack")
SWEEP_SECONDS = 30.0
WORKERS = 2
"""Requests answered at once: the dialogue and the solver are CPU-bound, so more threads than
cores only slow every answer down."""
CLAIM_BUDGET = 0.5
"""Seconds the acknowledgement waits for the inbox row. On SQLite a claim can queue behind
another transaction; past this budget Bolt acknowledges anyway and the answer waits for the
claim (a duplicate found then is dropped), so Slack's 3-second limit is never at risk."""
SEEN = 10_000
"""Recent keys remembered in memory: a double click is caught before the database is asked."""
T = TypeVar("T")


class _NoRequestBodies(logging.Filter):
    """Bolt logs whole request bodies in some messages (a bad signature at INFO, an unhandled
    request at WARNING). Slack text may name patients: keep the sentence, drop the body."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cut = min((i for i in (message.find("{"), message.find("body:")) if i >= 0), default=-1)
        if cut >= 0:
            record.msg, record.args = message[:cut].rstrip(" (,:") + " [request body withheld]", ()
        return True


def bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt.rota")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, _NoRequestBodies) for f in logger.filters):
        logger.addFilter(_NoRequestBodies())
    logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    return logger


class SlackDoor:
    def __init__(
        self,
        db: Database,
        dialogue: Dialogue,
        settings: SlackSettings,
        *,
        client: AsyncWebClient | None = None,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.db = db
        self.settings = settings
        self.api = SlackApi(settings, client)
        self.answerer = Answerer(db, dialogue)
        self.sweep_seconds = sweep_seconds
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sending: set[int] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._seen: dict[str, None] = {}  # insertion-ordered: the oldest are forgotten first
        self._callers: dict[str, tuple[float, bool]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # Two pools: acknowledgements must never queue behind the solver.
        self._ack_pool = ThreadPoolExecutor(2, thread_name_prefix="rota-slack-ack")
        self._work_pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="rota-slack-work")
        self.bolt = self._build()

    async def _on_ack_path(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._ack_pool, functools.partial(fn, *args, **kw))

    async def _in_worker(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._work_pool, functools.partial(fn, *args, **kw))

    # -- serving -------------------------------------------------------------------------------

    async def dispatch(self, body: str, query: str, headers: dict[str, Any]) -> BoltResponse:
        """One HTTP request from Slack (signature checked by Bolt: 401 if bad or stale)."""
        await self.start()
        return await self.bolt.async_dispatch(
            AsyncBoltRequest(body=body, query=query, headers=headers)
        )

    async def start(self) -> None:
        """Once per process and loop: resume unanswered requests, start the outbox sweep."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        self._loop = loop
        self._locks.clear()
        for key in await self._on_ack_path(store.unfinished, self.db):
            self._spawn(self._process(key))
        if self.sweep_seconds > 0:
            self._spawn(self._sweep())

    def idle(self) -> bool:
        """No request being answered and no message being sent (the sweep does not count)."""
        return not any(t.get_name() != "rota-slack-sweep" for t in self._tasks) and not (
            self._sending
        )

    async def resend(self) -> None:
        """Send every Slack message due now (what the sweep does; after an outage)."""
        await self._deliver(None)

    # -- Bolt ----------------------------------------------------------------------------------

    def _build(self) -> AsyncApp:
        bolt = AsyncApp(
            signing_secret=self.settings.signing_secret or "socket-mode-only",
            client=self.api.client,
            logger=bolt_logger(),
            process_before_response=True,  # claim before ack; the answer runs in our own task
            raise_error_for_unhandled_request=False,
        )

        @bolt.event("message")
        async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
            if (
                event.get("channel_type") != "im"
                or event.get("subtype")
                or event.get("bot_id")
                or not event.get("user")
            ):
                return  # our own posts, edits, joins: nothing to answer
            self.api.remember_dm(event["user"], event["channel"])
            await self._receive(
                f"event:{body.get('event_id')}",
                "message",
                event["user"],
                event["channel"],
                {"text": event.get("text") or ""},
            )

        @bolt.event("app_mention")
        async def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
            if is_private(event.get("channel")) or not event.get("user"):
                return  # a mention in our DM also arrives as a message event
            await self._receive(
                f"event:{body.get('event_id')}",
                "mention",
                event["user"],
                event.get("channel"),
                {
                    "text": event.get("text") or "",
                    "shared": bool(body.get("is_ext_shared_channel")),
                },
            )

        @bolt.event(re.compile(".*"))
        async def on_other_event() -> None:
            return None  # acknowledged and ignored (app_home_opened, member_joined_channel, ...)

        @bolt.command(re.compile(r"^/rota"))
        async def on_command(ack: Any, command: dict[str, Any]) -> None:
            user, channel = command.get("user_id", ""), command.get("channel_id")
            fresh = await self._receive(
                f"command:{command.get('trigger_id')}",
                "command",
                user,
                channel,
                {"text": command.get("text") or ""},
            )
            if not fresh:
                await ack()
            elif not await self._known(user):
                await ack(text=privacy.UNKNOWN_USER)
            elif channel and channel == self.api.known_dm(user):
                await ack()  # the answer appears right here
            else:
                await ack(text=privacy.WORKING_ON_IT)

        @bolt.action(re.compile(r"^rota_"))
        async def on_action(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            container = body.get("container") or {}
            channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
            message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
            user = (body.get("user") or {}).get("id", "")
            render = _render_of(action.get("value"))
            # One rendering, one decision: any second press on it (a double click) is a duplicate.
            key = (
                f"action:{channel}:{message_ts}:{render}"
                if render
                else f"action:{channel}:{message_ts}:{action.get('action_ts')}"
            )
            await self._receive(
                key,
                "action",
                user,
                channel,
                {
                    "action_id": action.get("action_id"),
                    "value": action.get("value"),
                    "message_ts": message_ts,
                },
            )
            await ack()

        @bolt.action(re.compile(".*"))
        async def on_other_action(ack: Any) -> None:
            await ack()

        return bolt

    # -- receiving and answering ---------------------------------------------------------------

    async def _receive(
        self, key: str, kind: str, user: str, channel: str | None, payload: dict[str, Any]
    ) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > SEEN:
            del self._seen[next(iter(self._seen))]
        loop = asyncio.get_running_loop()
        claim = loop.run_in_executor(
            self._ack_pool,
            functools.partial(store.claim, self.db, key, kind, user, channel, payload),
        )
        try:
            fresh = await asyncio.wait_for(asyncio.shield(claim), CLAIM_BUDGET)
        except TimeoutError:
            self._spawn(self._process(key, claim))
            return True
        if fresh:
            self._spawn(self._process(key))
        return fresh

    async def _known(self, slack_user: str) -> bool:
        """Whether a Slack user is linked to staff (remembered for a minute: it is asked on
        the acknowledgement path of slash commands)."""
        now = asyncio.get_running_loop().time()
        cached = self._callers.get(slack_user)
        if cached and now - cached[0] < 60:
            return cached[1]
        known = await self._on_ack_path(callers.for_slack_user, self.db, slack_user) is not None
        self._callers[slack_user] = (now, known)
        return known

    def _spawn(self, coroutine: Any) -> None:
        name = "rota-slack-sweep" if coroutine.__name__ == "_sweep" else "rota-slack-job"
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)  # a reference, so the task is not garbage-collected mid-way
        task.add_done_callback(self._tasks.discard)

    async def _process(self, key: str, claim: asyncio.Future[bool] | None = None) -> None:
        if claim is not None and not await claim:
            return  # the database knew this key already (another process, or before a restart)
        job = await self._in_worker(store.start, self.db, key)
        if job is None:
            return
        # One answer at a time per person and place: "book option 1" cannot overtake the offer.
        lock = self._locks.setdefault(f"{job.slack_user}:{job.channel}", asyncio.Lock())
        async with lock:
            try:
                outgoing = await self._in_worker(self.answerer.answer, job)
                await self._in_worker(store.finish, self.db, key, outgoing)
            except Exception as exc:  # never the details: they may name a patient
                log.error("Slack request %s failed: %s", key, exc.__class__.__name__)
                sorry = outbox.SlackMessage(
                    "chat.postMessage",
                    job.slack_user,
                    job.channel if is_private(job.channel) else None,
                    {"text": "Sorry, something went wrong on my side. Please try again."},
                )
                await self._in_worker(
                    store.finish, self.db, key, [sorry], error=exc.__class__.__name__
                )
        await self._deliver(key)

    # -- delivering ----------------------------------------------------------------------------

    async def _deliver(self, key: str | None) -> None:
        """Send what the outbox owes on Slack (only `key`'s, if given), in order within each
        request: once one is still owed after its try, the rest of its request waits for it."""
        claimed = await self._on_ack_path(
            outbox.claim, self.db, now_utc(), (outbox.SLACK,), request=key
        )
        self._sending.update(m.id for m in claimed)
        waiting: set[str | None] = set()
        held: list[outbox.Claimed] = []
        try:
            for message in claimed:
                if message.request in waiting:
                    held.append(message)
                elif not await self._deliver_one(message):
                    waiting.add(message.request)
                self._sending.discard(message.id)
            if held:
                await self._on_ack_path(outbox.release, self.db, held, now_utc())
        finally:
            self._sending.difference_update(m.id for m in claimed)

    async def _deliver_one(self, message: outbox.Claimed) -> bool:
        """One try; False while the message is still owed (to be tried again), True once it is
        settled: sent, dead (a person retries it) or withheld (never sent)."""
        try:
            where = await self._send(message)
        except _Withheld as exc:
            await self._on_ack_path(
                outbox.settle_failed, self.db, message, now_utc(), str(exc), final="refused"
            )
            log.warning("Slack message %s withheld", message.id)
            return True
        except SendFailed as exc:
            final = "dead" if exc.permanent else None
            outcome = await self._on_ack_path(
                outbox.settle_failed, self.db, message, now_utc(), str(exc), final=final
            )
            if outcome == "dead":
                log.warning("Slack message %s not sent: %s", message.id, exc)
            return outcome != "failed"
        except Exception as exc:  # a bug or the database: the lease runs out, the sweep retries
            log.error("Slack message %s: %s", message.id, exc.__class__.__name__)
            return False
        await self._on_ack_path(outbox.settle_sent, self.db, message, now_utc(), where=where)
        return True

    async def _send(self, message: outbox.Claimed) -> dict[str, Any]:
        """Make the Web API call: where it went (the Slack channel and the message's ts)."""
        payload = message.context.get("payload") or {}
        method = message.extra.get("method") or "chat.postMessage"
        channel = message.extra.get("slack_channel")
        if channel is None:
            if not message.recipient:
                raise SendFailed("no recipient", permanent=True)
            channel = await self.api.dm_channel(message.recipient)
        refused = await self._on_ack_path(self._refusal, message, channel)
        if refused:  # defence in depth: the PRIV rules judge every message before it leaves
            raise _Withheld(f"withheld: {refused}"[:200])
        body: dict[str, Any] = {"channel": channel, "text": payload.get("text", "")}
        if payload.get("blocks"):
            body["blocks"] = payload["blocks"]
        if method == "chat.postEphemeral":
            body["user"] = message.recipient
        elif method == "chat.update":
            body["ts"] = payload["ts"]
        else:
            body.update(unfurl_links=False, unfurl_media=False)
        data = await self.api.call(method, **body)
        ts = data.get("ts") or data.get("message_ts") or payload.get("ts")
        return {"slack_channel": channel, "ts": ts}

    def _refusal(self, message: outbox.Claimed, channel: str) -> str | None:
        payload = message.context.get("payload") or {}
        audit = message.extra.get("audit") or {}
        texts = [payload.get("text", "")]
        texts += [_block_text(b) for b in payload.get("blocks") or []]
        recipient = audit.get("recipient")
        if recipient is None:
            caller = callers.for_slack_user(self.db, message.recipient)
            recipient = caller.staff_id if caller else None
        return privacy.refusal(
            self.db,
            self.answerer._scan(),
            channel=channel,
            texts=texts,
            recipient=recipient,
            patients=audit.get("patients") or (),
            refusal=message.template == privacy.REFUSAL,
        )

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self._deliver(None)
            except Exception as exc:
                log.error("Slack outbox sweep failed: %s", exc.__class__.__name__)


class _Withheld(Exception):
    """The PRIV rules refused the message: it is never sent (not a failure to retry)."""


def _render_of(value: str | None) -> str | None:
    from integrations.slack.render import decode

    return decode(value).get("r")


def _block_text(block: dict[str, Any]) -> str:
    parts = [str((block.get("text") or {}).get("text", ""))]
    for element in block.get("elements") or []:
        parts.append(str((element.get("text") or {}).get("text", "")))
    return " ".join(parts)
