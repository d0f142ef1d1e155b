"""python -m fairway_bench.segment_parser: the fallback segment parser on its corpus of club phrasings.

Prints the share of phrasings it gets exactly right (judged by the members each answer selects on a synthetic
club), its silent misses (wrong and not marked partial: the target is 0) and the parse time p99.
"""

from fairway_ai_gateway.segment_parser.evaluation import evaluate, report

if __name__ == "__main__":
    print(report(evaluate()), flush=True)
