// Rota's plan problem on Timefold Solver 1.24 (the open-source peer, issue 17), in Java against
// the jars of the PyPI `timefold` wheel. bench/peer_timefold.py writes the input (plain integers
// from bench/peer_export.py's JSON), compiles and runs this, and writes the plan file.
// Usage: java -cp JARS:DIR RotaPeer IN OUT SECONDS SEED
//
// One planning entity per session still to place; its planning variable a candidate from its own
// demand's list, unassigned allowed. HardMediumSoft score:
//   hard   no clinician, patient or named room in two places (slot occupancy keys), caps
//          (weekly hours, room pools, rule limits, payer units), forbidden pairs,
//          min_days_apart between a group's meetings;
//   medium each unplaced session costs its demand's priority (placement first, as Rota's phase 1);
//   soft   each candidate's cost (continuity, preferences, room kind) and same_day_as_other
//          per extra session of a patient on one day.
// Construction: first fit (sessions in the given order, most constrained first); local search:
// change moves under late acceptance. The community edition solves on one thread.

import ai.timefold.solver.core.api.domain.entity.PlanningEntity;
import ai.timefold.solver.core.api.domain.lookup.PlanningId;
import ai.timefold.solver.core.api.domain.solution.PlanningEntityCollectionProperty;
import ai.timefold.solver.core.api.domain.solution.PlanningScore;
import ai.timefold.solver.core.api.domain.solution.PlanningSolution;
import ai.timefold.solver.core.api.domain.solution.ProblemFactCollectionProperty;
import ai.timefold.solver.core.api.domain.valuerange.ValueRangeProvider;
import ai.timefold.solver.core.api.domain.variable.PlanningVariable;
import ai.timefold.solver.core.api.score.buildin.hardmediumsoft.HardMediumSoftScore;
import ai.timefold.solver.core.api.score.stream.Constraint;
import ai.timefold.solver.core.api.score.stream.ConstraintCollectors;
import ai.timefold.solver.core.api.score.stream.ConstraintFactory;
import ai.timefold.solver.core.api.score.stream.ConstraintProvider;
import ai.timefold.solver.core.api.score.stream.Joiners;
import ai.timefold.solver.core.api.solver.Solver;
import ai.timefold.solver.core.api.solver.SolverFactory;
import ai.timefold.solver.core.config.constructionheuristic.ConstructionHeuristicPhaseConfig;
import ai.timefold.solver.core.config.constructionheuristic.ConstructionHeuristicType;
import ai.timefold.solver.core.config.constructionheuristic.decider.forager.ConstructionHeuristicForagerConfig;
import ai.timefold.solver.core.config.constructionheuristic.decider.forager.ConstructionHeuristicPickEarlyType;
import ai.timefold.solver.core.config.heuristic.selector.move.generic.ChangeMoveSelectorConfig;
import ai.timefold.solver.core.config.localsearch.LocalSearchPhaseConfig;
import ai.timefold.solver.core.config.localsearch.decider.acceptor.LocalSearchAcceptorConfig;
import ai.timefold.solver.core.config.localsearch.decider.forager.LocalSearchForagerConfig;
import ai.timefold.solver.core.config.solver.EnvironmentMode;
import ai.timefold.solver.core.config.solver.SolverConfig;
import ai.timefold.solver.core.impl.solver.DefaultSolver;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.StringTokenizer;

public class RotaPeer {

    /** Most of each cap (sum of coef over chosen candidates), by cap number. */
    static int[] MOST = new int[0];
    static int SAME_DAY = 6;

    public static class CapTerm {
        public final int cap;
        public final int coef;

        CapTerm(int cap, int coef) {
            this.cap = cap;
            this.coef = coef;
        }
    }

    public static class Candidate {
        @PlanningId public Integer id;
        public int start, end, day, cost;
        /** Occupancy keys (resource x 4096 + slot): two chosen candidates sharing one overlap. */
        public List<Integer> slots = new ArrayList<>();
        public List<CapTerm> terms = new ArrayList<>();
        public List<Integer> patientDays = new ArrayList<>();

        public Candidate() {}
    }

    public static class Conflict {
        public int first, second;

        Conflict(int first, int second) {
            this.first = first;
            this.second = second;
        }
    }

    @PlanningEntity
    public static class Session {
        @PlanningId public Integer id;
        public int demand, priority, minDaysApart;

        @ValueRangeProvider(id = "candidates")
        public List<Candidate> candidates = new ArrayList<>();

        @PlanningVariable(valueRangeProviderRefs = "candidates", allowsUnassigned = true)
        public Candidate candidate;

        public Session() {}
    }

    @PlanningSolution
    public static class Week {
        @ProblemFactCollectionProperty public List<Candidate> candidates = new ArrayList<>();
        @ProblemFactCollectionProperty public List<Conflict> conflicts = new ArrayList<>();
        @PlanningEntityCollectionProperty public List<Session> sessions = new ArrayList<>();
        @PlanningScore public HardMediumSoftScore score;

        public Week() {}
    }

    public static class Constraints implements ConstraintProvider {
        @Override
        public Constraint[] defineConstraints(ConstraintFactory cf) {
            return new Constraint[] {
                noOverlap(cf), caps(cf), forbiddenPairs(cf), groupDaysApart(cf),
                unplaced(cf), staticCost(cf), sameDay(cf)
            };
        }

        Constraint noOverlap(ConstraintFactory cf) {
            return cf.forEach(Session.class)
                    .flattenLast(s -> s.candidate.slots)
                    .groupBy(k -> k, ConstraintCollectors.count())
                    .filter((k, n) -> n > 1)
                    .penalize(HardMediumSoftScore.ONE_HARD, (k, n) -> n - 1)
                    .asConstraint("no clinician, patient or room in two places");
        }

        Constraint caps(ConstraintFactory cf) {
            return cf.forEach(Session.class)
                    .flattenLast(s -> s.candidate.terms)
                    .groupBy(t -> t.cap, ConstraintCollectors.sum(t -> t.coef))
                    .filter((cap, total) -> total > MOST[cap])
                    .penalize(HardMediumSoftScore.ONE_HARD, (cap, total) -> total - MOST[cap])
                    .asConstraint("caps: weekly hours, room pools, rule limits, payer units");
        }

        Constraint forbiddenPairs(ConstraintFactory cf) {
            return cf.forEach(Conflict.class)
                    .join(Session.class, Joiners.equal(c -> c.first, s -> s.candidate.id))
                    .join(Session.class, Joiners.equal((c, s) -> c.second, s -> s.candidate.id))
                    .penalize(HardMediumSoftScore.ONE_HARD)
                    .asConstraint("rule pairs (OPS-EVAL-EM-SAME-DAY)");
        }

        Constraint groupDaysApart(ConstraintFactory cf) {
            return cf.forEachUniquePair(Session.class, Joiners.equal(s -> s.demand))
                    .filter((a, b) -> a.minDaysApart > 0
                            && Math.abs(a.candidate.day - b.candidate.day) < a.minDaysApart)
                    .penalize(HardMediumSoftScore.ONE_HARD)
                    .asConstraint("group meetings min_days_apart");
        }

        Constraint unplaced(ConstraintFactory cf) {
            return cf.forEachIncludingUnassigned(Session.class)
                    .filter(s -> s.candidate == null)
                    .penalize(HardMediumSoftScore.ONE_MEDIUM, s -> s.priority)
                    .asConstraint("unplaced session (priority)");
        }

        Constraint staticCost(ConstraintFactory cf) {
            return cf.forEach(Session.class)
                    .filter(s -> s.candidate.cost > 0)
                    .penalize(HardMediumSoftScore.ONE_SOFT, s -> s.candidate.cost)
                    .asConstraint("continuity, preferences, room kind");
        }

        Constraint sameDay(ConstraintFactory cf) {
            return cf.forEach(Session.class)
                    .flattenLast(s -> s.candidate.patientDays)
                    .groupBy(k -> k, ConstraintCollectors.count())
                    .filter((k, n) -> n > 1)
                    .penalize(HardMediumSoftScore.ONE_SOFT, (k, n) -> SAME_DAY * (n - 1))
                    .asConstraint("a patient's sessions on one day");
        }
    }

    /** Whitespace-separated integers, read in order. */
    static final class Ints {
        private final StringTokenizer tokens;

        Ints(String text) {
            tokens = new StringTokenizer(text);
        }

        int next() {
            return Integer.parseInt(tokens.nextToken());
        }
    }

    static Week read(Path path) throws IOException {
        Ints in = new Ints(Files.readString(path));
        Week week = new Week();
        SAME_DAY = in.next();
        int nCaps = in.next();
        MOST = new int[nCaps];
        for (int i = 0; i < nCaps; i++) {
            MOST[i] = in.next();
        }
        int nCands = in.next();
        Candidate[] byId = new Candidate[nCands];
        for (int i = 0; i < nCands; i++) {
            Candidate c = new Candidate();
            c.id = in.next();
            c.start = in.next();
            c.end = in.next();
            c.day = in.next();
            c.cost = in.next();
            for (int n = in.next(); n > 0; n--) {
                c.slots.add(in.next());
            }
            for (int n = in.next(); n > 0; n--) {
                int cap = in.next();
                c.terms.add(new CapTerm(cap, in.next()));
            }
            for (int n = in.next(); n > 0; n--) {
                c.patientDays.add(in.next());
            }
            byId[c.id] = c;
            week.candidates.add(c);
        }
        for (int n = in.next(); n > 0; n--) {
            int a = in.next();
            week.conflicts.add(new Conflict(a, in.next()));
        }
        int nSessions = in.next();
        for (int i = 0; i < nSessions; i++) {
            Session s = new Session();
            s.id = i;
            s.demand = in.next();
            s.priority = in.next();
            s.minDaysApart = in.next();
            for (int n = in.next(); n > 0; n--) {
                s.candidates.add(byId[in.next()]);
            }
            week.sessions.add(s);
        }
        return week;
    }

    public static void main(String[] args) throws IOException {
        long began = System.nanoTime();
        Week week = read(Path.of(args[0]));
        long seconds = Math.round(Double.parseDouble(args[2]) * 1000);
        SolverConfig config = new SolverConfig()
                .withSolutionClass(Week.class)
                .withEntityClasses(Session.class)
                .withConstraintProviderClass(Constraints.class)
                .withEnvironmentMode(EnvironmentMode.NON_REPRODUCIBLE)
                .withRandomSeed(Long.parseLong(args[3]))
                .withTerminationSpentLimit(java.time.Duration.ofMillis(seconds))
                .withPhases(
                        new ConstructionHeuristicPhaseConfig()
                                .withConstructionHeuristicType(ConstructionHeuristicType.FIRST_FIT)
                                // Each session takes the first candidate (continuity
                                // clinicians come first in its list) that keeps the score:
                                // weighing every candidate of every session did not finish
                                // within the limit on the large week.
                                .withForagerConfig(new ConstructionHeuristicForagerConfig()
                                        .withPickEarlyType(ConstructionHeuristicPickEarlyType
                                                .FIRST_NON_DETERIORATING_SCORE)),
                        new LocalSearchPhaseConfig()
                                // Change moves only: a swap between sessions of different
                                // demands would hand one another patient's candidate.
                                .withMoveSelectorConfig(new ChangeMoveSelectorConfig())
                                .withAcceptorConfig(new LocalSearchAcceptorConfig()
                                        .withSimulatedAnnealingStartingTemperature(
                                                System.getProperty("rota.temperature",
                                                        "0hard/400medium/100soft")))
                                .withForagerConfig(
                                        new LocalSearchForagerConfig().withAcceptedCountLimit(1)));
        Solver<Week> solver = SolverFactory.<Week>create(config).buildSolver();
        long ready = System.nanoTime();
        Week best = solver.solve(week);
        long solved = System.nanoTime();
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Path.of(args[1])))) {
            out.println(best.score);
            DefaultSolver<Week> inner = (DefaultSolver<Week>) solver;
            out.printf("%.3f %.3f %d %d%n", (ready - began) / 1e9, (solved - ready) / 1e9,
                    inner.getMoveEvaluationCount(), inner.getMoveEvaluationSpeed());
            for (Session s : best.sessions) {
                out.println(s.candidate == null ? -1 : s.candidate.id);
            }
        }
    }
}
