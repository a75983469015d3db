import { addDays, type CalendarDate } from './dates.ts';
import { parsePercent } from './percent.ts';
import type { MilestoneSpec } from './schedule.ts';
import type { PaymentTerms } from './terms.ts';

export interface TemplateMilestone {
  name: string;
  deliverable: string;
  acceptanceCriteria: string;
  /** Share of the contract in ten-thousandths of a percent (see percent.ts). */
  percent: number;
  /** Planned date, in days after the schedule's start. */
  offsetDays: number;
  /**
   * The label of the deal stage that means "accepted" (e.g. "Design approved"); applied to a
   * deal, it becomes that stage of the deal's pipeline, where the pipeline has one.
   */
  triggerStageLabel?: string;
}

export interface Template {
  key: string;
  name: string;
  description: string;
  paymentTerms: PaymentTerms;
  retainagePercent: number;
  milestones: TemplateMilestone[];
}

const step = (
  name: string,
  percent: string,
  offsetDays: number,
  deliverable: string,
  acceptanceCriteria: string,
): TemplateMilestone => ({
  name,
  percent: parsePercent(percent),
  offsetDays,
  deliverable,
  acceptanceCriteria,
});

/** Front-loaded splits as service businesses bill them (first 20–30 %, last 10–15 %). */
export const BUILT_IN_TEMPLATES: readonly Template[] = [
  {
    key: 'software',
    name: 'Software project',
    description: 'Discovery, design, build and launch of a software product',
    paymentTerms: 'net_30',
    retainagePercent: 0,
    milestones: [
      step(
        'Discovery',
        '25',
        14,
        'Requirements document and project plan',
        'Client signs off the requirements document',
      ),
      step(
        'Design',
        '25',
        42,
        'Approved designs and technical architecture',
        'Client approves the designs in writing',
      ),
      step(
        'Build',
        '35',
        112,
        'Working software on the staging environment',
        'All acceptance tests pass on staging',
      ),
      step(
        'Launch',
        '15',
        126,
        'Production release and handover',
        'Software live in production for 7 days without a critical defect',
      ),
    ],
  },
  {
    key: 'construction',
    name: 'Construction draws',
    description: 'Progress draws for a building project, from permits to final walkthrough',
    paymentTerms: 'net_15',
    retainagePercent: 0,
    milestones: [
      step(
        'Permits & site prep',
        '10',
        21,
        'Permits issued, site cleared and graded',
        'Permits on file and site inspection passed',
      ),
      step(
        'Foundation',
        '15',
        49,
        'Footings and foundation poured and cured',
        'Foundation inspection passed',
      ),
      step(
        'Framing & roofing',
        '20',
        91,
        'Structure framed, roof installed and dried in',
        'Framing inspection passed',
      ),
      step(
        'Mechanical rough-in',
        '20',
        126,
        'Plumbing, electrical and HVAC rough-in',
        'Rough-in inspections passed',
      ),
      step(
        'Interior finishing',
        '25',
        182,
        'Drywall, flooring, fixtures and paint',
        'Owner walkthrough punch list agreed',
      ),
      step(
        'Final walkthrough',
        '10',
        196,
        'Punch list complete, certificate of occupancy',
        'Certificate of occupancy issued',
      ),
    ],
  },
  {
    key: 'consulting',
    name: 'Consulting engagement',
    description: 'Assessment through roadmap for an advisory engagement',
    paymentTerms: 'net_30',
    retainagePercent: 0,
    milestones: [
      step(
        'Assessment',
        '30',
        14,
        'Current-state assessment and stakeholder interviews',
        'Sponsor accepts the assessment summary',
      ),
      step('Analysis', '25', 35, 'Findings and analysis report', 'Sponsor accepts the findings report'),
      step(
        'Recommendations',
        '30',
        56,
        'Recommendations with business case',
        'Steering committee approves the recommendations',
      ),
      step(
        'Roadmap',
        '15',
        70,
        'Implementation roadmap and handover workshop',
        'Roadmap delivered and workshop held',
      ),
    ],
  },
  {
    key: 'creative',
    name: 'Creative project',
    description: 'Brand or campaign work from brief to brand guidelines',
    paymentTerms: 'net_15',
    retainagePercent: 0,
    milestones: [
      step('Brief', '20', 7, 'Creative brief and moodboard', 'Client approves the creative brief'),
      step('Concepts', '25', 21, 'Three creative concepts', 'Client selects a concept'),
      step(
        'Refinement',
        '25',
        35,
        'Refined concept with two revision rounds',
        'Client approves the refined concept',
      ),
      step(
        'Final assets',
        '20',
        49,
        'Production-ready files in all formats',
        'Client confirms receipt of all final files',
      ),
      step('Guidelines', '10', 56, 'Brand guidelines document', 'Client approves the guidelines'),
    ],
  },
];

/** Stage labels match as people read them: "Design approved" is "design  approved". */
const labelKey = (label: string) => label.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The template's trigger stages that the deal's pipeline has, by label: what the card offers.
 * Labels without such a stage are left out, and their milestones get no trigger.
 */
export function triggerStagesFor(
  template: Template,
  stages: readonly { id: string; label: string }[],
): Map<string, string> {
  const byLabel = new Map(stages.map((s) => [labelKey(s.label), s.id]));
  const found = new Map<string, string>();
  for (const m of template.milestones) {
    const id = m.triggerStageLabel && byLabel.get(labelKey(m.triggerStageLabel));
    if (id) found.set(m.triggerStageLabel!, id);
  }
  return found;
}

/**
 * The template's milestones as specs for a schedule starting on `start`; with retainage, a
 * final release milestone pays out what the others held back. `triggers`: stage ids by the
 * template's labels (triggerStagesFor), for the milestones that are accepted by a deal stage.
 */
export function specsFromTemplate(
  template: Template,
  start: CalendarDate,
  retainagePercent: number,
  triggers: ReadonlyMap<string, string> = new Map(),
): MilestoneSpec[] {
  const specs: MilestoneSpec[] = template.milestones.map((m) => ({
    name: m.name,
    deliverable: m.deliverable,
    acceptanceCriteria: m.acceptanceCriteria,
    amount: { percent: m.percent },
    plannedDate: addDays(start, m.offsetDays),
    triggerStage: (m.triggerStageLabel && triggers.get(m.triggerStageLabel)) || null,
  }));
  if (retainagePercent > 0) {
    const last = Math.max(...template.milestones.map((m) => m.offsetDays));
    specs.push({
      name: 'Retainage release',
      deliverable: 'Project closed out and warranty period started',
      acceptanceCriteria: 'Final completion certified by the client',
      amount: { fixed: 0 },
      plannedDate: addDays(start, last + 30),
      kind: 'retainage_release',
    });
  }
  return specs;
}
