from inference.jobs import JobQueue


async def test_high_priority_jobs_go_first_and_each_priority_keeps_its_order():
    queue = JobQueue()
    for job, priority in [("n1", "normal"), ("n2", "normal"), ("h1", "high"), ("n3", "normal"), ("h2", "high")]:
        queue.put(job, priority)
    assert len(queue) == 5
    assert [await queue.get() for _ in range(5)] == ["h1", "h2", "n1", "n2", "n3"]
