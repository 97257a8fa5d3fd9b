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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['login', 'message'])
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
    command = login if args.command == 'login' else message
    try:
        return asyncio.run(asyncio.wait_for(command(args), args.timeout + 5))
    except asyncio.TimeoutError:
        print('TIMEOUT', flush=True)
        return 3


if __name__ == '__main__':
    sys.exit(main())
