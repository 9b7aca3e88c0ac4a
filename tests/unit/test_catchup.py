"""Catch-up: a frame late on one link leaves the next ones that much earlier. Frames are
recognised from link to link by what routers do not rewrite; the credits move a path's
frames back onto the configured schedule, as far as the later links' delays allow."""
import struct

from testbed.underlay.linkemu.catchup import MIN_LATE, TTL, CatchUp, identity
from testbed.underlay.linkemu.shaper import Direction, Params


def ipv4(seq=1, ttl=64, src_mac=b"\x02" * 6, frag=0, ihl=5):
    """An ICMP echo request, its sequence number `seq`."""
    icmp = struct.pack("!BBHHH", 8, 0, (0xABCD - seq) % 65536, 7, seq) + b"data" * 8
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(icmp), 1, frag, ttl, 1,
                     ttl * 7, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return b"\x04" * 6 + src_mac + b"\x08\x00" + ip + bytes(4 * (ihl - 5)) + icmp


def test_routers_rewrites_keep_a_frames_identity():
    sent = ipv4(ttl=64, src_mac=b"\x02" * 6)
    forwarded = ipv4(ttl=63, src_mac=b"\x0a" * 6)  # new MACs, TTL and header checksum
    assert identity(sent) and identity(sent) == identity(forwarded)
    assert identity(ipv4(seq=2)) != identity(sent)  # the next ping
    assert identity(b"\x00" * 10 + sent, at=10) == identity(sent)  # after the vnet header


def test_frames_without_an_identity():
    arp = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + bytes(28)
    ipv6 = b"\x04" * 6 + b"\x02" * 6 + b"\x86\xdd" + b"\x60" + bytes(39)
    later_fragment = ipv4(frag=185)  # offset 1480 bytes: no transport header
    options = ipv4(ihl=6)
    assert identity(arp) == identity(ipv6) == identity(later_fragment) == identity(options) \
        == b""


def test_a_credit_is_taken_once_and_expires():
    catch_up = CatchUp()
    frame = ipv4()
    catch_up.late(frame, MIN_LATE / 2, now=10.0)  # on time: no credit
    assert not catch_up.credits
    catch_up.late(frame, 0.007, now=10.0)
    assert catch_up.take(frame, now=10.0001) == 0.007
    assert catch_up.take(frame, now=10.0002) == 0.0 and catch_up.frames == 1
    catch_up.late(frame, 0.007, now=10.0)
    assert catch_up.take(frame, now=10.0 + TTL) == 0.0  # it left this process's links


def test_expired_credits_are_swept_out_once_per_ttl():
    catch_up = CatchUp()
    for seq in range(1000):  # a busy TTL's late frames, the last links' never taken
        catch_up.late(ipv4(seq=seq), 0.005, now=1.0 + seq * TTL / 1000)
    assert len(catch_up.credits) == 1000
    catch_up.late(ipv4(seq=60000), 0.005, now=1.0 + 2 * TTL + 0.01)
    assert list(catch_up.credits) == [identity(ipv4(seq=60000))]


def cross(path, frame, sent, stall=None):
    """When `frame`, sent at `sent`, leaves the last link of `path` (one Direction per
    link, routers forwarding at once), with the emulator stopped during `stall` (start,
    end): frames due then leave at its end."""
    catch_up, now = CatchUp(), sent
    for direction in path:
        release = direction.admit(now - catch_up.take(frame, now), len(frame))
        left = max(release, now)
        if stall and stall[0] <= left < stall[1]:
            left = stall[1]
        catch_up.late(frame, left - release, left)
        now = left
    return now


def test_a_stall_mid_path_costs_the_path_nothing():
    delays = [2, 8, 5, 5, 8, 2]  # ms, line-3as from as100.h1 to as300.h1 (less one link)
    def path():
        return [Direction(Params(delay_ms=d), seed=i) for i, d in enumerate(delays)]
    frame = ipv4()
    assert abs(cross(path(), frame, 0.0) - 0.030) < 1e-9
    # stopped 7 ms while the frame waits on the second link: on time at the end
    assert abs(cross(path(), frame, 0.0, stall=(0.005, 0.012)) - 0.030) < 1e-9
    # on the last link, nothing after it can absorb it
    assert abs(cross(path(), frame, 0.0, stall=(0.029, 0.036)) - 0.036) < 1e-9
    # due at 28 ms on the fifth link, sent at 33 ms: the last link's 2 ms take 2 of the 5
    assert abs(cross(path(), frame, 0.0, stall=(0.026, 0.033)) - 0.033) < 1e-9


def test_a_late_frame_keeps_its_links_order():
    link = Direction(Params(delay_ms=5), seed=1)
    first = link.admit(1.000, 100)  # arrived on time
    caught_up = link.admit(1.001 - 0.004, 100)  # arrived after it, 4 ms late before
    assert caught_up >= first
