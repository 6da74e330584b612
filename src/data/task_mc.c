// tasks: multiple-choice templates. Indirect-object identification (Wang et al. 2022), the
// unexpected-contents false-belief test (Kosinski 2023), and the expected-value trap
// ("hindsight neglect", Inverse Scaling Prize). An item is a tuple of template choices packed
// in one integer; its split and the order of its choices are keyed hashes of that tuple.
#include "data/tasks_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MC 0x6d63686f69636531ULL
#define MC_TEST_FRAC 0.125
#define NA(a) (sizeof(a) / sizeof(a)[0])

enum { MC_IOI, MC_FALSEBELIEF, MC_EVTRAP };
typedef struct { int kind; } Mc;

// ---- the lists --------------------------------------------------------------

static const char *ioi_names[] = { "Mary", "John", "Tom", "James", "Dan", "Sid", "Martha",
                                   "Amy", "Paul", "Anne", "Lisa", "Kate", "Mark", "Sara",
                                   "Ben", "Emma", "Jack", "Lucy", "Ryan", "Alice" };
static const char *ioi_places[] = { "store", "park", "school", "station", "market", "office",
                                    "garden", "beach" };
static const char *ioi_objects[] = { "drink", "book", "ring", "basket", "computer", "snack",
                                     "bone", "necklace" };
static const char *ioi_templates[] = {  // the pair, the place, the giver, the object
    "When %s and %s went to the %s, %s gave a %s to",
    "After %s and %s went to the %s, %s gave a %s to",
    "While %s and %s were working at the %s, %s gave a %s to",
    "Friends %s and %s met at the %s. %s gave a %s to",
};
static const struct { const char *name, *pron; } fb_people[] = {
    { "Sam", "She" }, { "Tom", "He" }, { "Anna", "She" }, { "Mark", "He" },
    { "Lisa", "She" }, { "Ben", "He" }, { "Kate", "She" }, { "Paul", "He" },
    { "Emma", "She" }, { "Jack", "He" }, { "Sara", "She" }, { "Dan", "He" },
};
static const char *fb_containers[] = { "bag", "box", "jar", "tin", "crate", "basket" };
static const char *fb_contents[] = { "popcorn", "chocolate", "candy", "pencils", "buttons",
                                     "marbles", "cookies", "raisins", "coins", "beads" };
static const int ev_percent[] = { 5, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 95 };
static const int ev_amount[] = { 5, 10, 20, 50, 100, 200, 500, 1000 };
#define EV_NAMES 12  // fb_people's names

// ---- ids: mixed-radix digits --------------------------------------------------

static uint64_t take(uint64_t *x, uint64_t radix) {
    uint64_t d = *x % radix;
    *x /= radix;
    return d;
}

static uint64_t space_size(int kind) {
    switch (kind) {
    case MC_IOI:  // pair (ordered), giver, place, object, template
        return NA(ioi_names) * NA(ioi_names) * 2 * NA(ioi_places) * NA(ioi_objects) *
               NA(ioi_templates);
    case MC_FALSEBELIEF:  // person, container, contents, label, question
        return NA(fb_people) * NA(fb_containers) * NA(fb_contents) * NA(fb_contents) * 2;
    default:  // name, lose percent, loss, gain, order of the two outcomes
        return EV_NAMES * NA(ev_percent) * NA(ev_amount) * NA(ev_amount) * 2;
    }
}

// Expected value in percent-dollars of: p% to lose L, (100-p)% to win G.
static long ev_of(long p, long L, long G) { return (100 - p) * G - p * L; }

static int valid(int kind, uint64_t x) {
    switch (kind) {
    case MC_IOI: {
        uint64_t a = take(&x, NA(ioi_names)), b = take(&x, NA(ioi_names));
        return a != b;
    }
    case MC_FALSEBELIEF: {
        take(&x, NA(fb_people));
        take(&x, NA(fb_containers));
        uint64_t real = take(&x, NA(fb_contents)), label = take(&x, NA(fb_contents));
        return real != label;
    }
    default: {  // a clear verdict: one side of the bet at least twice the other
        take(&x, EV_NAMES);
        long p = ev_percent[take(&x, NA(ev_percent))];
        long L = ev_amount[take(&x, NA(ev_amount))], G = ev_amount[take(&x, NA(ev_amount))];
        long gain = (100 - p) * G, loss = p * L;
        return gain >= 2 * loss || loss >= 2 * gain;
    }
    }
}

static TaskId mc_draw(void *ctx, Rng *r) {
    const Mc *c = ctx;
    uint64_t n = space_size(c->kind), x;
    do x = task_below64(r, n);
    while (!valid(c->kind, x));
    return (TaskId){ x, (uint64_t)c->kind };
}

static int mc_split(void *ctx, TaskId id) {
    return task_hash_unit(KEY_MC, id.a, id.b) < MC_TEST_FRAC ? TASK_TEST : TASK_TRAIN;
}

// Two choices, the right one and the lure, in an order fixed by the id.
static void two_choices(TaskItem *it, TaskId id, char *right, char *lure) {
    int swap = (int)(task_hash(KEY_MC ^ 1, id.a, id.b) & 1);
    it->n_choices = 2;
    it->choices = xmalloc(2 * sizeof *it->choices);
    it->choice_scores = xcalloc(2, sizeof *it->choice_scores);
    it->choices[swap] = right;
    it->choices[!swap] = lure;
    it->correct = swap;
    it->choice_scores[swap] = 1;
    it->target = task_strdup(right);
}

static const char *article(long p) {  // "an 80%", "an 8%", "an 11%", "an 18%"
    return p == 8 || p == 11 || p == 18 || (p >= 80 && p <= 89) ? "an" : "a";
}

static int mc_make(void *ctx, TaskId id, TaskItem *it) {
    const Mc *c = ctx;
    uint64_t x = id.a;
    if (c->kind == MC_IOI) {
        const char *n1 = ioi_names[take(&x, NA(ioi_names))];
        const char *n2 = ioi_names[take(&x, NA(ioi_names))];
        int giver_first = (int)take(&x, 2);
        const char *place = ioi_places[take(&x, NA(ioi_places))];
        const char *obj = ioi_objects[take(&x, NA(ioi_objects))];
        const char *tpl = ioi_templates[take(&x, NA(ioi_templates))];
        const char *s = giver_first ? n1 : n2, *io = giver_first ? n2 : n1;
        it->prompt = task_fmt(tpl, n1, n2, place, s, obj);
        two_choices(it, id, task_fmt(" %s", io), task_fmt(" %s", s));
    } else if (c->kind == MC_FALSEBELIEF) {
        uint64_t who = take(&x, NA(fb_people));
        const char *name = fb_people[who].name, *pr = fb_people[who].pron;
        const char *box = fb_containers[take(&x, NA(fb_containers))];
        const char *real = fb_contents[take(&x, NA(fb_contents))];
        const char *label = fb_contents[take(&x, NA(fb_contents))];
        int belief = (int)take(&x, 2);
        char *story = task_fmt(
            "Here is a %s filled with %s. There is no %s in the %s. Yet, the label on the %s "
            "says \"%s\" and not \"%s\". %s finds the %s. %s has never seen it before and "
            "cannot see what is inside. %s reads the label.",
            box, real, label, box, box, label, real, name, box, pr, pr);
        if (belief)
            it->prompt = task_fmt("%s %s believes that the %s is full of", story, pr, box);
        else
            it->prompt = task_fmt("%s %s opens the %s and looks inside. %s can clearly see "
                                  "that it is full of", story, pr, box, pr);
        free(story);
        const char *right = belief ? label : real, *lure = belief ? real : label;
        two_choices(it, id, task_fmt(" %s", right), task_fmt(" %s", lure));
    } else {
        const char *name = fb_people[take(&x, EV_NAMES)].name;
        long p = ev_percent[take(&x, NA(ev_percent))];
        long L = ev_amount[take(&x, NA(ev_amount))], G = ev_amount[take(&x, NA(ev_amount))];
        int gain_first = (int)take(&x, 2);
        int good = ev_of(p, L, G) > 0;
        char *lose = task_fmt("%s %ld%% chance to lose %ld dollars", article(p), p, L);
        char *win = task_fmt("%s %ld%% chance to win %ld dollars", article(100 - p), 100 - p,
                             G);
        // The trap: the outcome disagrees with the expected value.
        char *outcome = good ? task_fmt("loses %ld dollars", L)
                             : task_fmt("wins %ld dollars", G);
        it->prompt = task_fmt("%s can play a game with %s and %s. %s plays and %s. Was it a "
                              "good bet? Answer:", name, gain_first ? win : lose,
                              gain_first ? lose : win, name, outcome);
        free(lose); free(win); free(outcome);
        two_choices(it, id, task_strdup(good ? " yes" : " no"),
                    task_strdup(good ? " no" : " yes"));
    }
    return 0;
}

int task_space_mc(const char *spec, const char *family, const char *args, TaskSpace *sp,
                  TaskSet *ts) {
    if (args)
        return em_error("task spec \"%s\": expected no fields after \"%s\"", spec, family);
    Mc *c = xcalloc(1, sizeof *c);
    c->kind = !strcmp(family, "ioi") ? MC_IOI
            : !strcmp(family, "falsebelief") ? MC_FALSEBELIEF : MC_EVTRAP;
    sp->ctx = c;
    sp->free_ctx = free;
    sp->draw = mc_draw;
    sp->split_of = mc_split;
    sp->make = mc_make;
    snprintf(ts->name, sizeof ts->name, "%s", family);
    ts->multiple_choice = 1;
    return 0;
}
