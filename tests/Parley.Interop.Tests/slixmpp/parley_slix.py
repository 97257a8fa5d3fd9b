#!/usr/bin/python3
"""Drives a Parley server with slixmpp (Debian's python3-slixmpp), an independent XMPP implementation.

Every command prints result lines the .NET test asserts on, and exits by itself within --timeout seconds.
"""
import argparse
import asyncio
import sys

import slixmpp


def make_client(jid, password, mechanism, cafile, port, no_channel_binding=False, tls12=False):
    client = slixmpp.ClientXMPP(jid, password, sasl_mech=mechanism)
    if no_channel_binding:
        # A client that does not do channel binding at all: GS2 flag 'n'. (slixmpp 1.8 otherwise sends 'y' with
        # every non-PLUS mechanism even when the server offers -PLUS, which RFC 5802 section 6 makes a failure.)
        mechanisms = client['feature_mechanisms']
        default = mechanisms._default_credentials

        def credentials(required, optional):
            values = default(required, optional)
            if 'channel_binding' in values:
                values['channel_binding'] = None
            return values
        mechanisms.sasl_callback = credentials
    client.ca_certs = cafile          # the server's self-signed certificate is the trust anchor
    client.use_aiodns = False
    if tls12:
        import ssl
        client.ssl_context.maximum_version = ssl.TLSVersion.TLSv1_2

    async def pinned(domain):
        # slixmpp resolves the JID's domain itself even when given an address: pin loopback.
        return (domain, '127.0.0.1', port)

    client._pick_dns_answer = pinned
    return client


def connect(client, args):
    if args.direct_tls:
        client.connect(('127.0.0.1', args.port), use_ssl=True, force_starttls=False)
    else:
        client.connect(('127.0.0.1', args.port), use_ssl=False, force_starttls=True)


def mechanism_of(client):
    mech = getattr(client.plugin['feature_mechanisms'], 'mech', None)
    return getattr(mech, 'name', '?')


async def login(args):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    client = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)

    def started(_):
        if not done.done():
            done.set_result(f'LOGIN OK {client.boundjid.full} {mechanism_of(client)}')

    def failed(stanza):
        if not done.done():
            done.set_result(f"LOGIN FAILED {stanza['condition']}")

    client.add_event_handler('session_start', started)
    client.add_event_handler('failed_auth', failed)
    client.add_event_handler('failed_all_auth', lambda _: done.done() or done.set_result('LOGIN FAILED all'))
    connect(client, args)
    result = await asyncio.wait_for(done, args.timeout)
    print(result, flush=True)
    client.disconnect()
    return 0 if result.startswith('LOGIN OK') else 1


async def message(args):
    loop = asyncio.get_running_loop()
    sender = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    receiver = make_client(args.to, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    sender_ready, receiver_ready, received = loop.create_future(), loop.create_future(), loop.create_future()
    sender.add_event_handler('session_start', lambda _: sender_ready.done() or sender_ready.set_result(True))
    receiver.add_event_handler('session_start', lambda _: receiver_ready.done() or receiver_ready.set_result(True))

    def on_message(msg):
        if msg['type'] in ('chat', 'normal') and not received.done():
            received.set_result(msg)

    receiver.add_event_handler('message', on_message)
    connect(sender, args)
    connect(receiver, args)
    await asyncio.wait_for(asyncio.gather(sender_ready, receiver_ready), args.timeout)
    print(f'SENDER {sender.boundjid.full}', flush=True)
    print(f'RECEIVER {receiver.boundjid.full}', flush=True)
    sender.send_message(mto=receiver.boundjid.full, mbody=args.body, mtype='chat')
    msg = await asyncio.wait_for(received, args.timeout)
    print(f"RECEIVED from={msg['from'].full} to={msg['to'].full} body={msg['body']}", flush=True)
    sender.disconnect()
    receiver.disconnect()
    return 0


async def wait_until(predicate, timeout, step=0.05):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise asyncio.TimeoutError()
        await asyncio.sleep(step)


async def connected(client, args):
    ready = asyncio.get_running_loop().create_future()
    client.add_event_handler('session_start', lambda _: ready.done() or ready.set_result(True))
    connect(client, args)
    await asyncio.wait_for(ready, args.timeout)
    await client.get_roster()
    client.send_presence()


async def subscribe(args):
    """RFC 6121 section 3: a full handshake ending in 'both' on each side, a presence change, and unavailable
    presence when one side's connection drops. slixmpp's roster plugin answers requests itself (auto_authorize,
    auto_subscribe), as a typical client does."""
    alice = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    bob = make_client(args.to, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    away, gone = asyncio.get_running_loop().create_future(), asyncio.get_running_loop().create_future()

    def bob_presence(p):
        if p['from'].bare == alice.boundjid.bare and p['show'] == 'away' and not away.done():
            away.set_result(True)

    def alice_presence(p):
        if p['from'].bare == bob.boundjid.bare and p['type'] == 'unavailable' and not gone.done():
            gone.set_result(p['from'].full)

    bob.add_event_handler('presence_away', bob_presence)   # slixmpp raises presence_<show> for available presence
    alice.add_event_handler('presence_unavailable', alice_presence)
    await connected(alice, args)
    await connected(bob, args)
    alice.send_presence(pto=bob.boundjid.bare, ptype='subscribe')
    a, b = alice.boundjid.bare, bob.boundjid.bare
    await wait_until(lambda: alice.client_roster[b]['subscription'] == 'both' and bob.client_roster[a]['subscription'] == 'both', args.timeout)
    print(f"ROSTER {a} has {b} as {alice.client_roster[b]['subscription']}", flush=True)
    print(f"ROSTER {b} has {a} as {bob.client_roster[a]['subscription']}", flush=True)
    alice.send_presence(pshow='away')
    await asyncio.wait_for(away, args.timeout)
    print(f"PRESENCE {b} sees {a} away", flush=True)
    bob.transport.abort()                   # the connection drops without a closing tag
    who = await asyncio.wait_for(gone, args.timeout)
    print(f"UNAVAILABLE {a} sees {who} gone", flush=True)
    alice.disconnect()
    return 0


async def offline(args):
    """XEP-0160: a message to an account with no available resource waits and arrives, delay-stamped, at its
    next login; meanwhile bare-JID routing goes to the available resource."""
    alice = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    await connected(alice, args)
    alice.send_message(mto=args.to, mbody=args.body, mtype='chat')
    await alice.plugin['xep_0199'].ping(jid=alice.boundjid.domain) if 'xep_0199' in alice.plugin else await asyncio.sleep(0.5)
    bob = make_client(args.to, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    received = asyncio.get_running_loop().create_future()
    bob.add_event_handler('message', lambda m: received.done() or received.set_result(m))
    await connected(bob, args)
    msg = await asyncio.wait_for(received, args.timeout)
    stamp = msg.xml.find('{urn:xmpp:delay}delay')
    print(f"OFFLINE body={msg['body']} delayed={'yes' if stamp is not None else 'no'}", flush=True)
    alice.disconnect()
    bob.disconnect()
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['login', 'message', 'subscribe', 'offline'])
    parser.add_argument('--jid', required=True)
    parser.add_argument('--to')
    parser.add_argument('--password', required=True)
    parser.add_argument('--mechanism')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--cafile', required=True)
    parser.add_argument('--direct-tls', action='store_true')
    parser.add_argument('--no-channel-binding', action='store_true')
    parser.add_argument('--tls12', action='store_true')
    parser.add_argument('--body', default='hello')
    parser.add_argument('--timeout', type=float, default=30)
    args = parser.parse_args()
    command = {'login': login, 'message': message, 'subscribe': subscribe, 'offline': offline}[args.command]
    try:
        return asyncio.run(asyncio.wait_for(command(args), args.timeout + 5))
    except asyncio.TimeoutError:
        print('TIMEOUT', flush=True)
        return 3


if __name__ == '__main__':
    sys.exit(main())
