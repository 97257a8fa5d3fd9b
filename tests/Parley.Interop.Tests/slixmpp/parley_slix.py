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


async def roster(args):
    """RFC 6121 section 2: a roster item set with a name and groups comes back on a roster get, and a second
    resource of the same account that asked for the roster is pushed the change."""
    first = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    second = make_client(args.jid.split('/')[0] + '/second', args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    pushed = asyncio.get_running_loop().create_future()

    def on_update(iq):
        for jid, item in iq['roster']['items'].items():
            if jid.bare == args.to and not pushed.done():
                pushed.set_result(item)

    second.add_event_handler('roster_update', on_update)
    await connected(first, args)
    await connected(second, args)
    await first.update_roster(args.to, name='Buddy', groups=['Friends', 'Work'])
    item = await asyncio.wait_for(pushed, args.timeout)
    print(f"PUSH {args.to} name={item['name']} groups={','.join(sorted(item['groups']))} subscription={item['subscription']}", flush=True)
    # A client without a cached roster version gets the full roster (the others hold the current version,
    # so RFC 6121 section 2.6.3 lets the server answer them with an empty result).
    third = make_client(args.jid.split('/')[0] + '/third', args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    await connected(third, args)
    got = third.client_roster[args.to]
    print(f"GET {args.to} name={got['name']} groups={','.join(sorted(got['groups']))}", flush=True)
    third.disconnect()
    await first.del_roster_item(args.to)
    await wait_until(lambda: args.to not in second.client_roster, args.timeout)
    print(f"REMOVED {args.to}", flush=True)
    first.disconnect()
    second.disconnect()
    return 0


async def priority(args):
    """RFC 6121 section 8.5.2.1.1: a message to the bare JID goes to the resource with the highest priority only."""
    base = args.to
    high = make_client(base + '/high', args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    low = make_client(base + '/low', args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    sender = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    loop = asyncio.get_running_loop()
    at_high, at_low = loop.create_future(), loop.create_future()
    high.add_event_handler('message', lambda m: at_high.done() or at_high.set_result(m))
    low.add_event_handler('message', lambda m: at_low.done() or at_low.set_result(m))
    for client, prio in ((high, 5), (low, 1)):
        ready = loop.create_future()
        client.add_event_handler('session_start', lambda _, r=ready: r.done() or r.set_result(True))
        connect(client, args)
        await asyncio.wait_for(ready, args.timeout)
        client.send_presence(ppriority=prio)
    await connected(sender, args)
    await high['xep_0199'].ping(jid=high.boundjid.domain) if 'xep_0199' in high.plugin else await asyncio.sleep(0.2)
    await low['xep_0199'].ping(jid=low.boundjid.domain) if 'xep_0199' in low.plugin else await asyncio.sleep(0.2)
    sender.send_message(mto=base, mbody='to the bare jid', mtype='chat')
    first = await asyncio.wait_for(at_high, args.timeout)
    print(f"HIGH got body={first['body']}", flush=True)
    # The low-priority resource's first message must be this one, sent to its full JID after the first.
    sender.send_message(mto=base + '/low', mbody='to the low resource', mtype='chat')
    second = await asyncio.wait_for(at_low, args.timeout)
    print(f"LOW first body={second['body']}", flush=True)
    for client in (high, low, sender):
        client.disconnect()
    return 0


async def block(args):
    """XEP-0191 through slixmpp's xep_0191 plugin: block, the block list, a blocked sender refused with
    service-unavailable, unblock and delivery again."""
    user = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    other = make_client(args.to, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    user.register_plugin('xep_0191')
    loop = asyncio.get_running_loop()
    errors, delivered = asyncio.Queue(), asyncio.Queue()
    other.add_event_handler('message_error', lambda m: errors.put_nowait(m))
    user.add_event_handler('message', lambda m: m['type'] != 'error' and delivered.put_nowait(m))
    await connected(user, args)
    await connected(other, args)
    other_bare = other.boundjid.bare
    await user['xep_0191'].block([other_bare])
    listed = await user['xep_0191'].get_blocked()
    print(f"BLOCKLIST {','.join(sorted(str(j) for j in listed['blocklist']['items']))}", flush=True)
    other.send_message(mto=user.boundjid.full, mbody='let me in', mtype='chat')
    error = await asyncio.wait_for(errors.get(), args.timeout)
    print(f"REFUSED {error['error']['condition']}", flush=True)
    await user['xep_0191'].unblock([other_bare])
    other.send_message(mto=user.boundjid.full, mbody='thanks', mtype='chat')
    msg = await asyncio.wait_for(delivered.get(), args.timeout)
    print(f"DELIVERED body={msg['body']}", flush=True)
    user.disconnect()
    other.disconnect()
    return 0


async def register(args):
    """XEP-0077 through slixmpp's xep_0077 plugin: a new account is created in-band before authentication, its
    password changed once logged in, and then removed, after which it can no longer log in."""
    loop = asyncio.get_running_loop()
    client = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    client.register_plugin('xep_0077')
    # slixmpp 1.8 holds back every IQ until the session has started, its own pre-authentication registration
    # IQs included; this documented switch lets them go out, as the XEP requires.
    client._always_send_everything = True
    registered, ready = loop.create_future(), loop.create_future()

    async def on_register(form):
        iq = client.Iq()
        iq['type'] = 'set'
        iq['register']['username'] = client.boundjid.user
        iq['register']['password'] = client.password
        await iq.send()
        if not registered.done():
            registered.set_result(True)

    client.add_event_handler('register', on_register)
    client.add_event_handler('session_start', lambda _: ready.done() or ready.set_result(True))
    connect(client, args)
    await asyncio.wait_for(registered, args.timeout)
    print("REGISTERED", flush=True)
    await asyncio.wait_for(ready, args.timeout)
    print(f"LOGIN OK {client.boundjid.full}", flush=True)
    await client['xep_0077'].change_password('a-new-password')
    print("PASSWORD CHANGED", flush=True)
    client.disconnect()

    again = make_client(args.jid, 'a-new-password', args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    again.register_plugin('xep_0077')
    await connected(again, args)
    print("LOGIN OK with the new password", flush=True)
    await again['xep_0077'].cancel_registration()
    print("REMOVED", flush=True)
    again.disconnect()

    gone = make_client(args.jid, 'a-new-password', args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    refused = loop.create_future()
    gone.add_event_handler('failed_auth', lambda s: refused.done() or refused.set_result(s['condition']))
    gone.add_event_handler('session_start', lambda _: refused.done() or refused.set_result('logged in'))
    connect(gone, args)
    print(f"AFTER REMOVAL {await asyncio.wait_for(refused, args.timeout)}", flush=True)
    gone.disconnect()
    return 0


async def smresume(args):
    """XEP-0198 through slixmpp's xep_0198 plugin: stream management is enabled with resumption, the TCP
    connection is cut, a message is sent to the session meanwhile, and the reconnected client resumes the session
    and receives it."""
    loop = asyncio.get_running_loop()
    alice = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    alice.register_plugin('xep_0198')
    bob = make_client(args.to, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    enabled, resumed = loop.create_future(), loop.create_future()
    bodies = asyncio.Queue()
    alice.add_event_handler('sm_enabled', lambda s: enabled.done() or enabled.set_result(s['id']))
    alice.add_event_handler('session_resumed', lambda s: resumed.done() or resumed.set_result(True))
    alice.add_event_handler('message', lambda m: m['body'] and bodies.put_nowait(m['body']))
    await connected(alice, args)
    await asyncio.wait_for(enabled, args.timeout)
    print("SM ENABLED", flush=True)
    await connected(bob, args)
    bob.send_message(mto=alice.boundjid.full, mbody='before the cut', mtype='chat')
    print(f"GOT {await asyncio.wait_for(bodies.get(), args.timeout)}", flush=True)

    lost = loop.create_future()
    alice.add_event_handler('disconnected', lambda _: lost.done() or lost.set_result(True))
    alice.transport.abort()                 # the connection drops: no closing tag, no TLS close
    await asyncio.wait_for(lost, args.timeout)
    bob.send_message(mto=alice.boundjid.full, mbody='while you were cut off', mtype='chat')
    await bob.plugin['xep_0199'].ping(jid=bob.boundjid.domain) if 'xep_0199' in bob.plugin else await asyncio.sleep(0.5)

    connect(alice, args)
    await asyncio.wait_for(resumed, args.timeout)
    print("RESUMED", flush=True)
    print(f"GOT {await asyncio.wait_for(bodies.get(), args.timeout)}", flush=True)
    alice.disconnect()
    bob.disconnect()
    return 0


async def carbons(args):
    """XEP-0280 through slixmpp's xep_0280 plugin: a second resource enables carbons and gets a received copy of
    a message delivered to the first resource and a sent copy of one the first resource sends."""
    loop = asyncio.get_running_loop()
    bare = args.jid.split('/')[0]
    phone = make_client(bare + '/phone', args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    laptop = make_client(bare + '/laptop', args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    laptop.register_plugin('xep_0280')
    bob = make_client(args.to, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    received, sent = loop.create_future(), loop.create_future()
    laptop.add_event_handler('carbon_received', lambda m: received.done() or received.set_result(m['carbon_received']))
    laptop.add_event_handler('carbon_sent', lambda m: sent.done() or sent.set_result(m['carbon_sent']))
    await connected(phone, args)
    await connected(laptop, args)
    await connected(bob, args)
    await laptop['xep_0280'].enable()
    print("CARBONS ENABLED", flush=True)
    bob.send_message(mto=phone.boundjid.full, mbody='to the phone', mtype='chat')
    inner = await asyncio.wait_for(received, args.timeout)
    print(f"RECEIVED COPY from={inner['from'].full} to={inner['to'].full} body={inner['body']}", flush=True)
    phone.send_message(mto=bob.boundjid.full, mbody='from the phone', mtype='chat')
    inner = await asyncio.wait_for(sent, args.timeout)
    print(f"SENT COPY from={inner['from'].full} to={inner['to'].full} body={inner['body']}", flush=True)
    for c in (phone, laptop, bob):
        c.disconnect()
    return 0


async def backwards(client, page_size, timeout):
    """Pages backwards with RSM <before/> through slixmpp's own RSM iterator, newest first. slixmpp 1.8 stops that
    iterator after the first backward page (its end test, first index + items == count, only fits forward paging),
    so this loop asks for pages until the server says the result set is complete."""
    mam_plugin = client['xep_0313']
    iq, mask = mam_plugin._pre_mam_retrieve()
    collected = {}

    def pre_cb(query):
        mask['mam_result']['queryid'] = query['id']
        query['mam']['queryid'] = query['id']
        collector = slixmpp.xmlstream.handler.Collector('MAM_back_%s' % query['id'], slixmpp.xmlstream.matcher.MatchXMLMask(str(mask)))
        client.register_handler(collector)
        collected['c'] = collector

    def post_cb(result):
        result['mam']['results'] = collected['c'].stop()

    pages = client['xep_0059'].iterate(iq, 'mam', 'results', amount=page_size, reverse=True, recv_interface='mam_fin',
                                       pre_cb=pre_cb, post_cb=post_cb)
    bodies = []
    for _ in range(100):
        page = await asyncio.wait_for(pages.next(), timeout)
        bodies.extend(reversed([m['mam_result']['forwarded']['stanza']['body'] for m in page['mam']['results']]))
        if page['mam_fin'].xml.get('complete') == 'true':
            return bodies
        pages._stop = False
    return bodies


async def mam(args):
    """XEP-0313 through slixmpp's xep_0313 plugin: seven messages are exchanged, then a new session of the account
    pages through its archive three at a time, forwards and backwards (XEP-0059)."""
    alice = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    bob = make_client(args.to, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    for c in (alice, bob):
        c.register_plugin('xep_0313')
    got = asyncio.Queue()
    alice.add_event_handler('message', lambda m: m['body'] and got.put_nowait(m['body']))
    bob.add_event_handler('message', lambda m: m['body'] and got.put_nowait(m['body']))
    await connected(alice, args)
    await connected(bob, args)
    for i in range(7):
        (bob if i % 2 == 0 else alice).send_message(mto=(alice if i % 2 == 0 else bob).boundjid.full, mbody=f'm{i}', mtype='chat')
        await asyncio.wait_for(got.get(), args.timeout)        # one at a time, so the archive order is known
    reader = make_client(args.jid.split('/')[0] + '/reader', args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    reader.register_plugin('xep_0313')
    await connected(reader, args)
    forward = [m['mam_result']['forwarded']['stanza']['body'] async for m in reader['xep_0313'].iterate(rsm={'max': 3})]
    print(f"FORWARD {' '.join(forward)}", flush=True)
    print(f"BACKWARD {' '.join(await backwards(reader, 3, args.timeout))}", flush=True)
    with_bob = [m['mam_result']['forwarded']['stanza']['body'] async for m in reader['xep_0313'].iterate(with_jid=bob.boundjid.bare, rsm={'max': 10})]
    print(f"WITH {len(with_bob)}", flush=True)
    for c in (alice, bob, reader):
        c.disconnect()
    return 0


async def upload(args):
    """XEP-0363 through slixmpp's xep_0363 plugin: it finds the upload service, gets a slot and PUTs a file with
    aiohttp; the file is then downloaded from the GET URL and compared byte for byte."""
    import os
    import io
    import hashlib
    import aiohttp
    os.environ['SSL_CERT_FILE'] = args.cafile      # aiohttp's default TLS context trusts the server's certificate
    client = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    client.register_plugin('xep_0363')
    await connected(client, args)
    # slixmpp 1.8.3's own discovery (get_info_from_domain) passes coroutines to asyncio.wait, which Python 3.11
    # refuses; the same disco#items and disco#info walk is done here with slixmpp's calls, one at a time.
    http = client['xep_0363']
    items = await client['xep_0030'].get_items(jid=client.boundjid.domain)
    for jid, _, _ in items['disco_items']['items']:
        info = await client['xep_0030'].get_info(jid=jid)
        if ('store', 'file') in [(i[0], i[1]) for i in info['disco_info']['identities']] \
                and 'urn:xmpp:http:upload:0' in info['disco_info']['features']:
            http.upload_service = jid
            for form in info['disco_info'].iterables:
                if form['values'].get('FORM_TYPE') == ['urn:xmpp:http:upload:0']:
                    http.max_file_size = int(form['values']['max-file-size'])
    print(f"SERVICE {http.upload_service} max={http.max_file_size}", flush=True)
    content = os.urandom(100_000)
    url = await client['xep_0363'].upload_file('interop test.bin', size=len(content), content_type='application/octet-stream',
                                               input_file=io.BytesIO(content), timeout=args.timeout)
    print(f"UPLOADED {url.split('/')[-1]}", flush=True)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            body = await response.read()
            print(f"DOWNLOADED {response.status} {response.headers.get('Content-Type')} {len(body)} bytes "
                  f"{'identical' if hashlib.sha256(body).digest() == hashlib.sha256(content).digest() else 'DIFFERENT'}", flush=True)
    client.disconnect()
    return 0


async def pep(args):
    """XEP-0163 through slixmpp's xep_0172 (user nickname) and xep_0115 plugins: two contacts subscribe to each
    other, the contact's client announces nick+notify in its caps (and answers the server's disco#info), and a
    nickname the user publishes reaches it as a PEP event; the contact can also read the node back."""
    loop = asyncio.get_running_loop()
    alice = make_client(args.jid, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    bob = make_client(args.to, args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
    for c in (alice, bob):
        c.register_plugin('xep_0172')
    nick = loop.create_future()
    bob.add_event_handler('user_nick_publish', lambda m: nick.done() or nick.set_result((m['from'].bare, m['pubsub_event']['items']['item']['nick']['nick'])))
    await connected(alice, args)
    await connected(bob, args)
    alice.send_presence(pto=bob.boundjid.bare, ptype='subscribe')
    a, b = alice.boundjid.bare, bob.boundjid.bare
    await wait_until(lambda: alice.client_roster[b]['subscription'] == 'both' and bob.client_roster[a]['subscription'] == 'both', args.timeout)
    bob.send_presence()                      # with caps: the server learns nick+notify
    await asyncio.sleep(0)
    await bob.plugin['xep_0199'].ping(jid=bob.boundjid.domain) if 'xep_0199' in bob.plugin else await asyncio.sleep(0.5)
    await alice['xep_0172'].publish_nick('Ali from slixmpp')
    who, value = await asyncio.wait_for(nick, args.timeout)
    print(f"EVENT from={who} nick={value}", flush=True)
    items = await bob['xep_0060'].get_items(alice.boundjid.bare, 'http://jabber.org/protocol/nick')
    print(f"ITEMS {len(items['pubsub']['items'])}", flush=True)
    alice.disconnect()
    bob.disconnect()
    return 0


async def muc(args):
    """XEP-0045 through slixmpp's xep_0045 plugin: three accounts join a room, exchange group and private
    messages; the owner makes the others members, configures the room members-only, kicks and bans; a late joiner
    gets the history; the room's archive pages through MAM (XEP-0313)."""
    from slixmpp.exceptions import PresenceError
    loop = asyncio.get_running_loop()
    domain = args.jid.split('@')[1].split('/')[0]
    room = slixmpp.JID('team@conference.' + domain)
    names = ['owner', 'bob', 'carol', 'dave']
    clients = {}
    for name in names:
        c = make_client(f"{name}{args.suffix}@{domain}/slix", args.password, args.mechanism, args.cafile, args.port, args.no_channel_binding, args.tls12)
        c.register_plugin('xep_0045')
        c.register_plugin('xep_0313')
        await connected(c, args)
        clients[name] = c
    owner, bob, carol, dave = (clients[n] for n in names)
    await owner['xep_0045'].join_muc_wait(room, 'Owner', timeout=args.timeout)
    form = await owner['xep_0045'].get_room_config(room)
    await owner['xep_0045'].set_room_config(room, form)
    print("ROOM CREATED", flush=True)
    got = {n: asyncio.Queue() for n in names}
    for n in names:
        clients[n].add_event_handler('groupchat_message', lambda m, n=n: m['body'] and got[n].put_nowait((m['from'].resource, m['body'])))
        clients[n].add_event_handler('message', lambda m, n=n: m['type'] == 'chat' and m['body'] and got[n].put_nowait(('pm:' + m['from'].resource, m['body'])))
    await bob['xep_0045'].join_muc_wait(room, 'Bob', timeout=args.timeout)
    await carol['xep_0045'].join_muc_wait(room, 'Carol', timeout=args.timeout)
    bob.send_message(mto=room, mbody='hello from bob', mtype='groupchat')
    print(f"CAROL GOT {await asyncio.wait_for(got['carol'].get(), args.timeout)}", flush=True)
    print(f"OWNER GOT {await asyncio.wait_for(got['owner'].get(), args.timeout)}", flush=True)
    carol.send_message(mto=slixmpp.JID(f"{room}/Bob"), mbody='a private word', mtype='chat')
    while True:
        who, body = await asyncio.wait_for(got['bob'].get(), args.timeout)
        if who.startswith('pm:'):
            print(f"BOB GOT {who} {body}", flush=True)
            break
    for member in (bob, carol, dave):
        await owner['xep_0045'].set_affiliation(room, 'member', jid=member.boundjid.bare)
    form = await owner['xep_0045'].get_room_config(room)
    form['muc#roomconfig_membersonly'] = True
    await owner['xep_0045'].set_room_config(room, form)
    print("MEMBERS ONLY", flush=True)
    kicked = loop.create_future()
    carol.add_event_handler(f"muc::{room}::presence", lambda p: p['type'] == 'unavailable' and '307' in [str(c) for c in p['muc']['status_codes']] and not kicked.done() and kicked.set_result(True))
    await owner['xep_0045'].set_role(room, 'Carol', 'none')
    await asyncio.wait_for(kicked, args.timeout)
    print("CAROL KICKED", flush=True)
    await owner['xep_0045'].set_affiliation(room, 'outcast', jid=carol.boundjid.bare)
    try:
        await carol['xep_0045'].join_muc_wait(room, 'Carol2', timeout=args.timeout)
        print("CAROL REJOINED", flush=True)
    except PresenceError as e:
        print(f"CAROL REFUSED {e.condition}", flush=True)
    _, _, _, history = await dave['xep_0045'].join_muc_wait(room, 'Dave', maxstanzas=10, timeout=args.timeout)
    print(f"DAVE HISTORY {[m['body'] for m in history]}", flush=True)
    archived = [m['mam_result']['forwarded']['stanza']['body'] async for m in owner['xep_0313'].iterate(jid=room, rsm={'max': 1})]
    print(f"ARCHIVE {archived}", flush=True)
    for c in clients.values():
        c.disconnect()
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['login', 'message', 'subscribe', 'offline', 'roster', 'priority', 'block', 'register', 'smresume', 'carbons', 'mam', 'upload', 'pep', 'muc'])
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
    parser.add_argument('--suffix', default='')
    parser.add_argument('--timeout', type=float, default=30)
    args = parser.parse_args()
    command = {'login': login, 'message': message, 'subscribe': subscribe, 'offline': offline, 'roster': roster,
               'priority': priority, 'block': block, 'register': register, 'smresume': smresume,
               'carbons': carbons, 'mam': mam, 'upload': upload, 'pep': pep, 'muc': muc}[args.command]
    try:
        return asyncio.run(asyncio.wait_for(command(args), args.timeout + 5))
    except asyncio.TimeoutError:
        print('TIMEOUT', flush=True)
        return 3


if __name__ == '__main__':
    sys.exit(main())
