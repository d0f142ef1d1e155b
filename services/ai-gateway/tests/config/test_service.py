"""The config service against real PostgreSQL: the gateway's cached, shared reads."""

import asyncio


async def test_concurrent_requests_share_one_read_and_a_patch_is_seen_after_the_cache(
    make_gateway, configure
):
    gw = await make_gateway(config_cache_seconds=0)
    await configure(gw, "club-a", brandVoice="Warm and local")
    reads = 0

    async def counting_run(fn):  # the gateway's hot pool, counting the reads made on it
        nonlocal reads
        reads += 1
        return await gw.hot.run(fn)

    got = await asyncio.gather(*[gw.configs.current(counting_run, "club-a") for _ in range(20)])
    assert reads == 1 and {c.brandVoice for c in got} == {"Warm and local"}
    await configure(gw, "club-a", brandVoice="Crisp")
    assert (await gw.configs.current(counting_run, "club-a")).brandVoice == "Crisp"
    assert reads == 2
    # another tenant is read on its own, with the defaults when it never configured AI
    other = await gw.configs.current(counting_run, "club-b")
    assert reads == 3 and other.qualityTier == "ECONOMY"
