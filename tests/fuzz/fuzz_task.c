// libFuzzer target: task files, read both as a BIG-bench task.json and as JSON lines; an
// accepted set is turned into training text, a few-shot prompt and an extracted answer.
#include <string.h>

#include "data/tasks.h"
#include "fuzz.h"

static void use(const TaskSet *ts) {
    FUZZ_CHECK(ts->n > 0);
    char *text = NULL;
    unsigned char *mask = NULL;
    size_t len = 0;
    if (!task_training_text(ts, &text, &mask, &len)) {
        FUZZ_CHECK(strlen(text) <= len);
        free(text);
        free(mask);
    }
    int k = ts->n > 2 ? 2 : ts->n - 1;
    char *p = task_fewshot_prompt(ts, ts->items, k, &ts->items[ts->n - 1]);
    free(p);
    char *a = task_extract_answer(ts, ts->items[0].target ? ts->items[0].target : "");
    free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzFile ff;
    fuzz_file_open(&ff, data, size);
    TaskSet ts;
    if (!task_load_bigbench(ff.path, &ts)) { use(&ts); taskset_free(&ts); }
    if (!task_load_jsonl(ff.path, &ts)) { use(&ts); taskset_free(&ts); }
    fuzz_file_close(&ff);
    return 0;
}
