"""The config service against real PostgreSQL: the gateway's cached, shared reads."""

import asyncio


async def test_concurrent_requests_share_one_read_and_a_patch_is_seen_after_the_cache(
    make_gateway, configure
):
    gw = await make_gateway(config_cache_seconds=0)
    await configure(gw, "club-a", brandVoice="Warm and local")
    opened = 0

    def counting_sessionmaker():
        nonlocal opened
        opened += 1
        return gw.sessionmaker()

    got = await asyncio.gather(*[gw.configs.current(counting_sessionmaker, "club-a") for _ in range(20)])
    assert opened == 1 and {c.brandVoice for c in got} == {"Warm and local"}
    await configure(gw, "club-a", brandVoice="Crisp")
    assert (await gw.configs.current(counting_sessionmaker, "club-a")).brandVoice == "Crisp"
    assert opened == 2
    # another tenant is read on its own, with the defaults when it never configured AI
    other = await gw.configs.current(counting_sessionmaker, "club-b")
    assert opened == 3 and other.qualityTier == "ECONOMY"
