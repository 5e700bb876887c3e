/**
 * Per-DAG access in a real browser: a person whose only group has a `dag_access` rule (no global role) signs in
 * with a passkey and Airflow's own UI lists exactly the DAGs the rule matches; the REST API agrees.
 * The stack's rules and tagged DAGs are the integration suite's (test/integration/support/stack.py, test/integration/dags).
 */
import { browserTest, useBrowser } from './support/browser';
import { signedInPerson } from './support/people';
import { stack } from './support/stack';

/** `{"groups": ["it-finance"], "dag_tags": ["finance"], "role": "USER"}`: the DAGs tagged finance. */
const FINANCE_GROUP = 'it-finance';
const FINANCE_DAGS = ['it_fin_daily', 'it_fin_monthly', 'it_hr_payroll'];
const OTHER_DAGS = ['it_ml_train', 'it_sales_report'];

describe('per-DAG access in a real browser', () => {
  useBrowser();

  browserTest(
    'a person with only a tag rule signs in and sees exactly the DAGs tagged for their group',
    async (session) => {
      expect(stack().roleMapping[FINANCE_GROUP]).toBeUndefined(); // no global role: the rule alone lets them in
      const { device } = await signedInPerson(session, { groups: [FINANCE_GROUP], prefix: 'finance' });
      const { page, context } = device;
      const airflow = stack().airflowUrl;

      await page.goto(`${airflow}/dags`);
      for (const dagId of FINANCE_DAGS) await page.getByRole('link', { name: dagId, exact: true }).waitFor();
      for (const dagId of [...OTHER_DAGS, stack().exampleDagId]) {
        expect(await page.getByRole('link', { name: dagId, exact: true }).count()).toBe(0);
      }
      await device.screenshot('dag-access-finance');

      // The REST API with the same session agrees with the page, DAG by DAG.
      const listed = (await (await context.request.get(`${airflow}/api/v2/dags?limit=100`)).json()) as {
        dags: Array<{ dag_id: string }>;
      };
      expect(listed.dags.map((d) => d.dag_id).sort()).toEqual([...FINANCE_DAGS].sort());
      expect((await context.request.get(`${airflow}/api/v2/dags/${FINANCE_DAGS[0]}`)).status()).toBe(200);
      for (const dagId of [...OTHER_DAGS, stack().exampleDagId]) {
        expect((await context.request.get(`${airflow}/api/v2/dags/${dagId}`)).status()).toBe(403);
      }
    },
  );
});
