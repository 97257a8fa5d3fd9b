using System.Runtime.CompilerServices;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>
/// XEP-0198 bookkeeping of one session: the stanzas sent and not yet acknowledged (the send queue that survives a
/// reconnection), the counters (which wrap at 2^32, §4), and a generation that changes whenever the queue is
/// handed over for resending, so a stanza is never written twice.
/// </summary>
internal sealed class StreamManagementState
{
    private readonly object _lock = new();
    private readonly Queue<Element> _unacked = new();
    private uint _acked;
    private uint _handled;
    private int _generation;

    /// <summary>A fresh state; <paramref name="acknowledged"/> starts the acknowledgement counter elsewhere (tests of the wrap).</summary>
    public StreamManagementState(uint acknowledged = 0) => _acked = acknowledged;

    /// <summary>Whether the server enabled stream management on this session.</summary>
    public bool Enabled { get; private set; }

    /// <summary>The resumption id, when the session may be resumed.</summary>
    public string? ResumeId { get; private set; }

    /// <summary>Stanzas received and handled (the 'h' we report).</summary>
    public uint Handled => Volatile.Read(ref _handled);

    /// <summary>Stanzas sent and not yet acknowledged.</summary>
    public int UnackedCount
    {
        get
        {
            lock (_lock) return _unacked.Count;
        }
    }

    public void Enable(string? resumeId)
    {
        lock (_lock)
        {
            Enabled = true;
            ResumeId = resumeId;
        }
    }

    /// <summary>Queues a sent stanza; returns the generation it was queued in.</summary>
    public int Sent(Element stanza)
    {
        lock (_lock)
        {
            _unacked.Enqueue(stanza);
            return _generation;
        }
    }

    /// <summary>Whether a stanza queued in <paramref name="generation"/> is still to be written by its sender.</summary>
    public bool IsCurrent(int generation) => Volatile.Read(ref _generation) == generation;

    public void CountHandled() => Interlocked.Increment(ref Unsafe.As<uint, int>(ref _handled));

    /// <summary>§4: the server has handled <paramref name="h"/> stanzas in all; drops those from the queue. False when
    /// <paramref name="h"/> acknowledges more than was sent (§4: an undefined-condition for the peer).</summary>
    public bool Acknowledge(uint h)
    {
        lock (_lock)
        {
            var count = unchecked(h - _acked);
            if (count > (uint)_unacked.Count) return false;
            for (var i = 0u; i < count; i++) _unacked.Dequeue();
            _acked = h;
            return true;
        }
    }

    /// <summary>The stanzas to resend after a resumption (§5); later sends are written by their senders.</summary>
    public List<Element> ForResend()
    {
        lock (_lock)
        {
            _generation++;
            return [.. _unacked];
        }
    }

    /// <summary>A new session after a failed resumption: counters restart and the unacknowledged stanzas are returned
    /// to be sent again as new ones.</summary>
    public List<Element> Restart()
    {
        lock (_lock)
        {
            _generation++;
            var pending = new List<Element>(_unacked);
            _unacked.Clear();
            _acked = 0;
            _handled = 0;
            Enabled = false;
            ResumeId = null;
            return pending;
        }
    }
}
